import { addMinor, formatAmount } from '#domain/money.ts';
import type { Payment, ReconciliationRepair } from '#domain/payment.ts';
import { AppError, ConflictError } from '#shared/errors.ts';

export const REFUND_STATUSES = ['PROCESSING', 'SUCCEEDED', 'FAILED'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** Where refunded money goes: back through the payment's channel, or into a wallet of the payer (settled at once). */
export type RefundDestination = 'ORIGINAL' | 'BALANCE';

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
  /** Absent on refunds recorded before destinations existed: `ORIGINAL`. */
  destination?: RefundDestination;
  /** The wallet a `BALANCE` refund credited. */
  accountId?: string;
  channelRefundNo?: string;
  createdAt: string;
  /** The merchant's GSI1 shard count when it was created (absent on refunds stored before: the default). */
  listingShards?: number;
  updatedAt: string;
  completedAt?: string;
  /** When the status sync next asks the channel about this `PROCESSING` refund (absent: `firstSyncAt(createdAt)`). */
  syncAt?: string;
  /** Asks of the status sync that settled nothing. */
  syncAttempts?: number;
  requestHash: string;
  version: number;
  /** Set when a reconciliation run applied the channel's result (a lost refund callback). */
  repair?: ReconciliationRepair;
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

/** Whether the refund goes through the payment's channel (and so appears in its bills); `BALANCE` never does. */
export function reachesChannel(refund: Pick<Refund, 'destination'>): boolean {
  return refund.destination !== 'BALANCE';
}

/**
 * Guards a `BALANCE` refund: only a payment that credited no wallet may be refunded into one. Refunding a recharge
 * into a wallet would credit money the wallet already received — money created from nothing.
 */
export function assertBalanceRefundAllowed(payment: Payment): void {
  if (payment.accountId) {
    throw new ConflictError(
      'REFUND_DESTINATION_NOT_ALLOWED',
      'a recharge cannot be refunded into a wallet: it already credited one; refund it to the ORIGINAL destination',
      { destination: 'BALANCE', payment_account_id: payment.accountId },
    );
  }
}

/** Pure: the payment once a refund of `amountMinor` that settles at once (a `BALANCE` refund) has been made. */
export function refundAtOnce(payment: Payment, amountMinor: number, at: string): Payment {
  const refundedMinor = addMinor(payment.refundedMinor, amountMinor);
  return {
    ...payment,
    refundedMinor,
    status: refundedStatus(payment, refundedMinor),
    updatedAt: at,
    version: payment.version + 1,
  };
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
    status: refundedStatus(payment, refundedMinor),
    updatedAt: at,
    version: payment.version + 1,
  };
}

function refundedStatus(payment: Payment, refundedMinor: number): Payment['status'] {
  return refundedMinor === payment.amountMinor ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
}
