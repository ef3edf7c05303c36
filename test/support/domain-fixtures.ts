import { randomUUID } from 'node:crypto';
import type { Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';

/** A pending CNY 100.00 SANDBOX QR payment with a fresh id, expiring in 30 minutes; override what a test needs. */
export function paymentFixture(overrides: Partial<Payment> = {}): Payment {
  const at = new Date().toISOString();
  return {
    id: `pay_${randomUUID().replaceAll('-', '')}`,
    merchantId: 'mch_1',
    orderNo: 'ORD1',
    status: 'PENDING',
    amountMinor: 10_000,
    currency: 'CNY',
    subject: 'Wallet top-up',
    channel: 'SANDBOX',
    method: 'QR',
    metadata: {},
    refundedMinor: 0,
    late: false,
    expiresAt: new Date(Date.now() + 30 * 60_000).toISOString(),
    createdAt: at,
    updatedAt: at,
    requestHash: 'h',
    version: 1,
    ...overrides,
  };
}

/** A PROCESSING refund of part of a payment, on the payment's channel, with a fresh id (also its refund_no). */
export function refundFixture(paid: Payment, amountMinor: number): Refund {
  const at = new Date().toISOString();
  const id = `ref_${randomUUID().replaceAll('-', '')}`;
  return {
    id,
    merchantId: paid.merchantId,
    paymentId: paid.id,
    refundNo: id,
    amountMinor,
    currency: paid.currency,
    status: 'PROCESSING',
    channel: paid.channel,
    createdAt: at,
    updatedAt: at,
    requestHash: 'h',
    version: 1,
  };
}
