/**
 * Status sync: an order or refund left in an intermediate state (a refund `PROCESSING`, a payment `PENDING` past its
 * expiry) is asked about at its channel by the minute timer of the bucket its `syncAt` falls in, and postponed with
 * a doubling delay while the channel cannot settle it.
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
