import { addMinor, formatAmount } from '#domain/money.ts';
import type { Payment } from '#domain/payment.ts';
import { AppError, ConflictError } from '#shared/errors.ts';

export type RefundStatus = 'PROCESSING' | 'SUCCEEDED' | 'FAILED';

/** A refund of (part of) a payment. Amounts are integer minor units in the payment's currency. */
export interface Refund {
  id: string;
  merchantId: string;
  paymentId: string;
  refundNo: string;
  amountMinor: number;
  currency: string;
  reason?: string;
  status: RefundStatus;
  channel: Payment['channel'];
  channelRefundNo?: string;
  createdAt: string;
  updatedAt: string;
  completedAt?: string;
  requestHash: string;
  version: number;
}

/** A verified refund result reported by a channel (callback or query). */
export interface ChannelRefundResult {
  refundId: string;
  status: 'SUCCEEDED' | 'FAILED';
  channelRefundNo?: string;
}

/** Raised when the wallet no longer holds what a refund must take back (or a balance payment cannot be paid). */
export class InsufficientBalanceError extends AppError {
  constructor(httpStatus: 402 | 409, details: Record<string, unknown>) {
    super('INSUFFICIENT_BALANCE', httpStatus, 'the wallet balance is insufficient', details);
  }
}

/**
 * Guards a new refund: only a `SUCCEEDED`/`PARTIALLY_REFUNDED` payment is refundable, and the sum of its non-failed
 * refunds (processing + succeeded + this one) never exceeds what was paid.
 */
export function assertRefundable(payment: Payment, amountMinor: number): void {
  if (payment.status !== 'SUCCEEDED' && payment.status !== 'PARTIALLY_REFUNDED') {
    throw new ConflictError('INVALID_STATE', `payment is ${payment.status}; only paid payments can be refunded`, {
      status: payment.status,
    });
  }
  const committed = addMinor(payment.refundedMinor, payment.refundingMinor ?? 0);
  if (addMinor(committed, amountMinor) > payment.amountMinor) {
    throw new ConflictError('REFUND_EXCEEDS_PAYMENT', 'refunds would exceed the paid amount', {
      paid: formatAmount(payment.amountMinor, payment.currency),
      already_refunded_or_processing: formatAmount(committed, payment.currency),
      requested: formatAmount(amountMinor, payment.currency),
    });
  }
}

/** Pure: the payment once a refund of `amountMinor` has been accepted (Try). */
export function reserveRefund(payment: Payment, amountMinor: number, at: string): Payment {
  return {
    ...payment,
    refundingMinor: addMinor(payment.refundingMinor ?? 0, amountMinor),
    updatedAt: at,
    version: payment.version + 1,
  };
}

/** Pure: the payment once a processing refund has succeeded (Confirm) or failed (Cancel). */
export function settleRefund(payment: Payment, refund: Refund, succeeded: boolean, at: string): Payment {
  const refundingMinor = addMinor(payment.refundingMinor ?? 0, -refund.amountMinor);
  if (refundingMinor < 0) throw new Error(`payment ${payment.id} has less refunding than refund ${refund.id}`);
  if (!succeeded) return { ...payment, refundingMinor, updatedAt: at, version: payment.version + 1 };
  const refundedMinor = addMinor(payment.refundedMinor, refund.amountMinor);
  return {
    ...payment,
    refundingMinor,
    refundedMinor,
    status: refundedMinor === payment.amountMinor ? 'REFUNDED' : 'PARTIALLY_REFUNDED',
    updatedAt: at,
    version: payment.version + 1,
  };
}
