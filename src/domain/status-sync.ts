import { expiryBucket } from './expiry.ts';
import type { Payment } from './payment.ts';
import { isHeld } from './risk.ts';

/**
 * Status sync: an order or refund left in an intermediate state (a refund `PROCESSING`, a payment `PENDING`) is asked
 * about at its channel by the minute timer of the bucket its `syncAt` falls in, and postponed with a doubling delay
 * while the channel cannot settle it. A `PENDING` payment is asked before its expiry too ({@link nextPaymentSyncAt}).
 */

/** How long a refund may stay `PROCESSING` before its channel is asked (callbacks normally settle it in seconds). */
export const FIRST_SYNC_AFTER_MS = 2 * 60_000;
/** The longest wait between two asks of the same order or refund. */
export const MAX_SYNC_DELAY_MS = 60 * 60_000;
/** An order or refund still unsettled this long after it was due raises `UnsettledPastHorizon` at every ask. */
export const UNSETTLED_HORIZON_MS = 4 * 60 * 60_000;

/** When a new `PROCESSING` refund is first asked about. */
export function firstSyncAt(createdAt: string): string {
  return new Date(Date.parse(createdAt) + FIRST_SYNC_AFTER_MS).toISOString();
}

/** When to ask again after `attempts` asks that settled nothing: the delay doubles, up to {@link MAX_SYNC_DELAY_MS}. */
export function nextSyncAt(now: Date, attempts: number): string {
  const delay = Math.min(FIRST_SYNC_AFTER_MS * 2 ** Math.min(attempts, 20), MAX_SYNC_DELAY_MS);
  return new Date(now.getTime() + delay).toISOString();
}

/** Whether something due since `dueAt` and still unsettled at `now` is past the alarm horizon. */
export function isPastHorizon(dueAt: string, now: Date): boolean {
  return now.getTime() - Date.parse(dueAt) > UNSETTLED_HORIZON_MS;
}

/**
 * Whether the status sync may ask a payment's channel about it before its expiry: only a payment registered there. A
 * `BALANCE` payment settles inside its own transaction, and one held for risk review was never sent to its channel.
 */
export function asksChannelEarly(payment: Pick<Payment, 'channel' | 'risk'>): boolean {
  return payment.channel !== 'BALANCE' && !isHeld(payment.risk);
}

/**
 * When the status sync asks the channel about an open `PENDING` payment before its expiry, after `asks` asks that
 * found it still open: `afterMs` from `now` (at creation, `asks` = 0), the delay doubling with each ask, at most
 * {@link MAX_SYNC_DELAY_MS}. `undefined` once that minute is not before the expiry's: the expiry run — which asks the
 * channel first — is then the next ask (its bucket is `expires_at`'s minute).
 */
export function nextPaymentSyncAt(expiresAt: string, now: Date, afterMs: number, asks: number): string | undefined {
  const delay = Math.min(afterMs * 2 ** Math.min(asks, 20), MAX_SYNC_DELAY_MS);
  const at = new Date(now.getTime() + delay).toISOString();
  return expiryBucket(at) < expiryBucket(expiresAt) ? at : undefined;
}
