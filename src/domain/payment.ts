import { AppError, ConflictError } from '#shared/errors.ts';
import type { PaymentRisk } from './risk.ts';
import type { Share } from './sharded-limit.ts';

export const CHANNELS = ['SANDBOX', 'ALIPAY', 'WECHAT_PAY', 'BALANCE'] as const;
export type Channel = (typeof CHANNELS)[number];

export const PAY_METHODS = ['QR', 'PAGE', 'WAP', 'H5', 'JSAPI', 'APP', 'BALANCE'] as const;
export type PayMethod = (typeof PAY_METHODS)[number];

export const PAYMENT_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED', 'CLOSED', 'PARTIALLY_REFUNDED', 'REFUNDED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** A payment as the gateway stores it. Amounts are integer minor units. */
export interface Payment {
  id: string;
  merchantId: string;
  orderNo: string;
  status: PaymentStatus;
  amountMinor: number;
  currency: string;
  subject: string;
  description?: string;
  channel: Channel;
  method: PayMethod;
  accountId?: string;
  payerAccountId?: string;
  notifyUrl?: string;
  returnUrl?: string;
  metadata: Record<string, string>;
  payUrl?: string;
  qrCode?: string;
  /** What the payer's client SDK needs to pay (WeChat JSAPI's signed parameters). */
  clientParams?: Record<string, string>;
  /** Sum of SUCCEEDED refunds. */
  refundedMinor: number;
  /** Sum of PROCESSING refunds (absent on payments stored before refunds existed). */
  refundingMinor?: number;
  late: boolean;
  channelTradeNo?: string;
  expiresAt: string;
  createdAt: string;
  /**
   * The merchant's GSI1 shard count when it was created (`listingShardsAt`): its listing key, its refunds' and events'
   * too when those are created by code that has no merchant profile. Absent on payments stored before: the default.
   */
  listingShards?: number;
  /**
   * When the minute timer next asks the channel about a `PENDING` payment (status sync): before `expiresAt`, an early
   * ask of a payment registered at its channel; after it, a payment the expiry could not settle. Absent: at expiry.
   */
  syncAt?: string;
  /** Asks of the status sync that settled nothing (before expiry; counted again from 0 after it). */
  syncAttempts?: number;
  updatedAt: string;
  paidAt?: string;
  /** Hash of the creating request's parameters, to tell an idempotent replay from a conflicting reuse. */
  requestHash: string;
  /** Optimistic-lock counter: every transition is conditional on it. */
  version: number;
  /** The channels routing tried and left before the one that took it (absent when the first one did). */
  routingAttempts?: RoutingAttempt[];
  /** Set when a reconciliation run applied the channel's result (a lost callback, 掉单). */
  repair?: ReconciliationRepair;
  /** The risk check's decision and the limit counters it reserved (absent on payments stored before risk existed). */
  risk?: PaymentRisk;
  /**
   * The channel's daily volume this payment reserved (UTC day); given back when it closes or fails. `shares`: the
   * counter shards it was taken from (absent: the day's one unsharded counter).
   */
  channelVolume?: { day: string; amountMinor: number; shares?: Share[] };
}

/**
 * How a reconciliation run repaired a payment or refund, kept on the record itself (written in the repairing
 * transaction), so every later run of that day still classifies the line as it stood and shows the repair.
 */
export interface ReconciliationRepair {
  /** The business day and the run that repaired it. */
  date: string;
  runId: string;
  /** When the repair was committed. */
  at: string;
  /** The record's status and last-change time before, and its status after the repair. */
  before: { status: string; at: string };
  after: { status: string };
}

/**
 * A routed payment's failed try at one channel: an outage there (`OUTAGE`), or a failure after which the channel may
 * have created the order (a timeout, an answer that does not verify), so it was closed there and can never be paid
 * (`CLOSED`).
 */
export interface RoutingAttempt {
  channel: Channel;
  outcome: 'OUTAGE' | 'CLOSED';
  /** How the call failed: `timeout`, `network`, `http_status`, `system_error`, or the error code (`CHANNEL_RESPONSE_INVALID`). */
  reason: string;
  latencyMs: number;
}

/** A verified payment result reported by a channel (callback, query or bill). */
export interface ChannelPaymentResult {
  paymentId: string;
  status: 'SUCCEEDED' | 'FAILED';
  amountMinor: number;
  currency: string;
  channelTradeNo: string;
  paidAt?: string;
}

/** What applying a channel result to a payment means. */
export type ResultDecision =
  | { kind: 'succeed'; late: boolean }
  | { kind: 'fail' }
  /** The payment already reflects this result (a duplicate or reordered callback): acknowledge, change nothing. */
  | { kind: 'duplicate' };

/** Raised when a channel reports an amount or currency that disagrees with the payment; nothing is applied. */
export class AmountMismatchError extends AppError {
  constructor(details: Record<string, unknown>) {
    super('AMOUNT_MISMATCH', 400, 'reported amount or currency does not match the payment', details);
  }
}

/** The status a reader sees: a `PENDING` payment past `expires_at` is already closed, whatever the timer's delay. */
export function visibleStatus(payment: Payment, now: Date): PaymentStatus {
  return payment.status === 'PENDING' && Date.parse(payment.expiresAt) <= now.getTime() ? 'CLOSED' : payment.status;
}

/**
 * Decides how a verified channel result changes a payment. A success is never dropped: after `CLOSED` (or past
 * expiry) it still succeeds, flagged `late` so it is alarmed. A failure only ever moves a `PENDING` payment.
 */
export function decideResult(payment: Payment, result: ChannelPaymentResult, now: Date): ResultDecision {
  if (result.amountMinor !== payment.amountMinor || result.currency !== payment.currency) {
    throw new AmountMismatchError({
      payment_id: payment.id,
      expected: { amount_minor: payment.amountMinor, currency: payment.currency },
      reported: { amount_minor: result.amountMinor, currency: result.currency },
    });
  }
  if (result.status === 'SUCCEEDED') {
    switch (payment.status) {
      case 'PENDING': {
        // Late means the payer paid after the order expired (by the channel's clock when it says), not merely that
        // the news arrived late: a payment made just before expiry and reported after it is on time.
        const paidAt = result.paidAt ? Date.parse(result.paidAt) : now.getTime();
        return { kind: 'succeed', late: paidAt >= Date.parse(payment.expiresAt) };
      }
      case 'CLOSED':
        return { kind: 'succeed', late: true };
      case 'SUCCEEDED':
      case 'PARTIALLY_REFUNDED':
      case 'REFUNDED':
        return { kind: 'duplicate' };
      case 'FAILED':
        // A channel that first said FAILED and then verifiably SUCCEEDED took the money: never drop it.
        return { kind: 'succeed', late: true };
      default:
        return assertNever(payment.status);
    }
  }
  return payment.status === 'PENDING' ? { kind: 'fail' } : { kind: 'duplicate' };
}

/** Guards the merchant-initiated close: only an unpaid, open payment can be closed. */
export function assertClosable(payment: Payment, now: Date): void {
  if (payment.status !== 'PENDING') {
    throw new ConflictError('INVALID_STATE', `payment is ${visibleStatus(payment, now)}, only PENDING can be closed`, {
      status: visibleStatus(payment, now),
    });
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}
