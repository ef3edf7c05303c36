/** Every DynamoDB key of the single table is built here and nowhere else. */
export interface Key {
  PK: string;
  SK: string;
}

export const keys = {
  merchant: (merchantId: string): Key => ({ PK: `MERCHANT#${merchantId}`, SK: 'PROFILE' }),
  orderGuard: (merchantId: string, orderNo: string): Key => ({
    PK: `MERCHANT#${merchantId}#ORDER#${orderNo}`,
    SK: 'GUARD',
  }),
  payment: (paymentId: string): Key => ({ PK: `PAYMENT#${paymentId}`, SK: 'PAYMENT' }),
  /** Refunds are read by id alone (`GET /v1/refunds/{id}`), so they get their own partition. */
  refund: (refundId: string): Key => ({ PK: `REFUND#${refundId}`, SK: 'REFUND' }),
  refundGuard: (merchantId: string, refundNo: string): Key => ({
    PK: `MERCHANT#${merchantId}#REFUND#${refundNo}`,
    SK: 'GUARD',
  }),
  /** The sandbox channel's own record of a refund it was asked to make (the simulated channel's storage). */
  sandboxRefund: (refundId: string): Key => ({ PK: `SANDBOX#REFUND#${refundId}`, SK: 'SANDBOX' }),
  wallet: (merchantId: string, accountId: string, currency: string): Key => ({
    PK: walletPartition(merchantId, accountId, currency),
    SK: 'BALANCE',
  }),
  ledgerEntry: (merchantId: string, accountId: string, currency: string, seq: number): Key => ({
    PK: walletPartition(merchantId, accountId, currency),
    SK: ledgerSort(seq),
  }),
  event: (eventId: string): Key => ({ PK: `EVENT#${eventId}`, SK: 'EVENT' }),
  eventAttempt: (eventId: string, at: string): Key => ({
    PK: `EVENT#${eventId}`,
    SK: `ATTEMPT#${at}#${Math.random().toString(36).slice(2, 10)}`,
  }),
  /** The sandbox channel's own record of a payment (decided on its cashier page, or closed). */
  sandboxPayment: (paymentId: string): Key => ({ PK: `SANDBOX#PAYMENT#${paymentId}`, SK: 'SANDBOX' }),
  nonce: (merchantId: string, nonce: string): Key => ({ PK: `NONCE#${merchantId}#${nonce}`, SK: 'NONCE' }),
  idempotency: (merchantId: string, key: string): Key => ({ PK: `IDEM#${merchantId}#${key}`, SK: 'IDEM' }),
};

export function walletPartition(merchantId: string, accountId: string, currency: string): string {
  return `ACCOUNT#${merchantId}#${accountId}#${currency}`;
}

export const LEDGER_PREFIX = 'LEDGER#';

/** Zero-padded so lexical order is numeric order. */
export function ledgerSort(seq: number): string {
  return `${LEDGER_PREFIX}${String(seq).padStart(12, '0')}`;
}

/** Index attributes of a payment (GSI1 listing, GSI2 settlement day, GSI3 sparse expiry bucket). */
export const paymentIndexes = {
  byMerchant: (merchantId: string, createdAt: string, paymentId: string) => ({
    GSI1PK: `MERCHANT#${merchantId}`,
    GSI1SK: `${createdAt}#${paymentId}`,
  }),
  bySettlementDay: (channel: string, paidAt: string, paymentId: string) => ({
    GSI2PK: `CHANNEL#${channel}#${paidAt.slice(0, 10)}`,
    GSI2SK: `${paidAt}#${paymentId}`,
  }),
  byExpiryMinute: (expiresAt: string, paymentId: string) => ({
    GSI3PK: `EXPIRY#${expiresAt.slice(0, 16)}`,
    GSI3SK: paymentId,
  }),
};

/** Index attributes of a refund: GSI2, beside its channel's payments of the day it completed (reconciliation). */
export const refundIndexes = {
  bySettlementDay: (channel: string, completedAt: string, refundId: string) => ({
    GSI2PK: `CHANNEL#${channel}#${completedAt.slice(0, 10)}`,
    GSI2SK: `${completedAt}#${refundId}`,
  }),
};
