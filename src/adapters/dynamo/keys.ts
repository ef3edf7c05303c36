import { businessDayOf, type SettlementTimeZones, settlementTimeZones } from '#domain/business-day.ts';
import { expiryBucket } from '#domain/expiry.ts';

/**
 * Every DynamoDB key of the single table is built here and nowhere else. Each variable part goes through
 * {@link part}, so no value — a merchant id, an order number, an `Idempotency-Key` — can forge another tenant's key.
 */
export interface Key {
  PK: string;
  SK: string;
}

/**
 * One key component, encoded so it cannot contain the `#` separator: `%` → `%25`, `#` → `%23`. The encoding is
 * injective and leaves every id the gateway generates (and every value the API's schemas allow) unchanged, so two
 * distinct tuples of parts never join to the same key.
 */
export function part(value: string): string {
  return value.replaceAll('%', '%25').replaceAll('#', '%23');
}

export const keys = {
  merchant: (merchantId: string): Key => ({ PK: `MERCHANT#${part(merchantId)}`, SK: 'PROFILE' }),
  orderGuard: (merchantId: string, orderNo: string): Key => ({
    PK: `MERCHANT#${part(merchantId)}#ORDER#${part(orderNo)}`,
    SK: 'GUARD',
  }),
  payment: (paymentId: string): Key => ({ PK: `PAYMENT#${part(paymentId)}`, SK: 'PAYMENT' }),
  /** Refunds are read by id alone (`GET /v1/refunds/{id}`), so they get their own partition. */
  refund: (refundId: string): Key => ({ PK: `REFUND#${part(refundId)}`, SK: 'REFUND' }),
  refundGuard: (merchantId: string, refundNo: string): Key => ({
    PK: `MERCHANT#${part(merchantId)}#REFUND#${part(refundNo)}`,
    SK: 'GUARD',
  }),
  /** One channel message journal entry, in its payment's partition (refunds' messages included), by time. */
  journalEntry: (paymentId: string, at: string, entryId: string): Key => ({
    PK: `JOURNAL#${part(paymentId)}`,
    SK: `${at}#${part(entryId)}`,
  }),
  /** The sandbox channel's own record of a refund it was asked to make (the simulated channel's storage). */
  sandboxRefund: (refundId: string): Key => ({ PK: `SANDBOX#REFUND#${part(refundId)}`, SK: 'SANDBOX' }),
  wallet: (merchantId: string, accountId: string, currency: string): Key => ({
    PK: walletPartition(merchantId, accountId, currency),
    SK: 'BALANCE',
  }),
  ledgerEntry: (merchantId: string, accountId: string, currency: string, seq: number): Key => ({
    PK: walletPartition(merchantId, accountId, currency),
    SK: ledgerSort(seq),
  }),
  event: (eventId: string): Key => ({ PK: `EVENT#${part(eventId)}`, SK: 'EVENT' }),
  eventAttempt: (eventId: string, at: string): Key => ({
    PK: `EVENT#${part(eventId)}`,
    SK: `ATTEMPT#${at}#${Math.random().toString(36).slice(2, 10)}`,
  }),
  /** The sandbox channel's own record of a payment (decided on its cashier page, or closed). */
  sandboxPayment: (paymentId: string): Key => ({ PK: `SANDBOX#PAYMENT#${part(paymentId)}`, SK: 'SANDBOX' }),
  nonce: (merchantId: string, nonce: string): Key => ({ PK: `NONCE#${part(merchantId)}#${part(nonce)}`, SK: 'NONCE' }),
  idempotency: (merchantId: string, key: string): Key => ({ PK: `IDEM#${part(merchantId)}#${part(key)}`, SK: 'IDEM' }),
  /** A merchant's rate-limit bucket of one route class (`write` | `read`): one small item, updated in place. */
  rateBucket: (merchantId: string, routeClass: string): Key => ({
    PK: `RATE#${part(merchantId)}#${part(routeClass)}`,
    SK: 'BUCKET',
  }),
  /** A channel-day's latest reconciliation run (the summary the API answers with by default). */
  reconciliation: (date: string, channel: string): Key => ({
    PK: reconciliationPartition(date, channel),
    SK: 'SUMMARY',
  }),
  /** One run of a channel-day; run ids start with their UTC start time, so the runs sort oldest first. */
  reconciliationRun: (date: string, channel: string, runId: string): Key => ({
    PK: reconciliationPartition(date, channel),
    SK: `${RUN_PREFIX}${part(runId)}`,
  }),
};

/** The partition of a channel-day's reconciliation runs. */
export function reconciliationPartition(date: string, channel: string): string {
  return `RECON#${part(date)}#${part(channel)}`;
}

export const RUN_PREFIX = 'RUN#';

/** Audit entries of a UTC day are spread over this many partitions (a hot day must not make one hot key). */
export const AUDIT_SHARDS = 8;

/** The partition of a day's audit shard; readers query every shard of the day. */
export function auditPartition(day: string, shard: number): string {
  return `AUDIT#${part(day)}#${shard}`;
}

/** An audit entry's key: its day and a shard derived from its id, sorted by time within the shard. */
export function auditKey(record: { id: string; at: string }): Key {
  let hash = 0;
  for (const char of record.id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return { PK: auditPartition(record.at.slice(0, 10), hash % AUDIT_SHARDS), SK: `${record.at}#${part(record.id)}` };
}

/** GSI2's partition: a channel's settled payments and completed refunds of one business day (reconciliation). */
export function settlementDayPartition(channel: string, day: string): string {
  return `CHANNEL#${part(channel)}#${part(day)}`;
}

let zones: { sandbox: string | undefined; zones: SettlementTimeZones } | undefined;

/**
 * This deployment's settlement time zones: the sandbox's from `SANDBOX_SETTLEMENT_TIME_ZONE` (default
 * Asia/Shanghai). The GSI2 day of a record is its business day in its channel's zone, so every function that writes
 * payments or refunds and the reconcile function must see the same value (the stack sets it on all of them).
 */
export function deploymentTimeZones(env: NodeJS.ProcessEnv = process.env): SettlementTimeZones {
  const sandbox = env.SANDBOX_SETTLEMENT_TIME_ZONE || undefined;
  if (!zones || zones.sandbox !== sandbox) zones = { sandbox, zones: settlementTimeZones(sandbox) };
  return zones.zones;
}

/** The GSI2 channel-day of a settlement instant: the business day in the channel's zone. */
function settlementDay(channel: string, at: string): string {
  const zone = deploymentTimeZones()[channel as keyof SettlementTimeZones];
  if (!zone) throw new Error(`no settlement time zone for channel ${channel}`);
  return businessDayOf(zone, at);
}

/** GSI3's partition: the payments still `PENDING` that expire in one UTC minute (`yyyy-mm-ddThh:mm`). */
export function expiryPartition(minute: string): string {
  return `EXPIRY#${part(minute)}`;
}

export function walletPartition(merchantId: string, accountId: string, currency: string): string {
  return `ACCOUNT#${part(merchantId)}#${part(accountId)}#${part(currency)}`;
}

export const LEDGER_PREFIX = 'LEDGER#';

/** Zero-padded so lexical order is numeric order. */
export function ledgerSort(seq: number): string {
  return `${LEDGER_PREFIX}${String(seq).padStart(12, '0')}`;
}

/** What GSI1 lists per merchant: each kind in its own partition, sorted by creation time then id. */
export type MerchantListing = 'payments' | 'refunds' | 'events';

/**
 * GSI1's partition of a merchant's payments, refunds or events. Payments keep the bare `MERCHANT#{id}` they were
 * indexed under from the start; the escaped merchant id contains no `#`, so the three never share a partition.
 */
export function merchantListingPartition(merchantId: string, listing: MerchantListing): string {
  const merchant = `MERCHANT#${part(merchantId)}`;
  return listing === 'payments' ? merchant : `${merchant}#${listing.toUpperCase()}`;
}

/** GSI1's sort key: creation time, then id (unique, and ordered like the listing pages). */
function listingSort(createdAt: string, id: string): string {
  return `${createdAt}#${part(id)}`;
}

/** Index attributes of a payment (GSI1 listing, GSI2 business day of `paidAt`, GSI3 sparse expiry bucket). */
export const paymentIndexes = {
  byMerchant: (merchantId: string, createdAt: string, paymentId: string) => ({
    GSI1PK: merchantListingPartition(merchantId, 'payments'),
    GSI1SK: listingSort(createdAt, paymentId),
  }),
  bySettlementDay: (channel: string, paidAt: string, paymentId: string) => ({
    GSI2PK: settlementDayPartition(channel, settlementDay(channel, paidAt)),
    GSI2SK: `${paidAt}#${part(paymentId)}`,
  }),
  byExpiryMinute: (expiresAt: string, paymentId: string) => ({
    GSI3PK: expiryPartition(expiryBucket(expiresAt)),
    GSI3SK: paymentId,
  }),
};

/**
 * Index attributes of a refund: GSI1 (the merchant's refunds), GSI2 beside its channel's payments of the business day
 * it completed (reconciliation).
 */
export const refundIndexes = {
  byMerchant: (merchantId: string, createdAt: string, refundId: string) => ({
    GSI1PK: merchantListingPartition(merchantId, 'refunds'),
    GSI1SK: listingSort(createdAt, refundId),
  }),
  bySettlementDay: (channel: string, completedAt: string, refundId: string) => ({
    GSI2PK: settlementDayPartition(channel, settlementDay(channel, completedAt)),
    GSI2SK: `${completedAt}#${part(refundId)}`,
  }),
};

/** Index attributes of an outbox event: GSI1, the merchant's events (the attempts beside it carry none). */
export const eventIndexes = {
  byMerchant: (merchantId: string, createdAt: string, eventId: string) => ({
    GSI1PK: merchantListingPartition(merchantId, 'events'),
    GSI1SK: listingSort(createdAt, eventId),
  }),
};
