/**
 * A channel's daily volume counter, sharded (the arithmetic is the generic `sharded-limit.ts`;
 * `src/adapters/dynamo/daily-volume-repository.ts` keeps the counters). A sharded day has N counters, counter k
 * holding its share of the daily limit — the shares sum to the limit exactly, so the day never exceeds it however the
 * reservations spread (docs/channels.md, "Daily volume").
 */
import { type ShardStep, shardCount } from './sharded-limit.ts';

/**
 * How many counters a day has, by the first day of each count (never edit a past step; append one starting on a day
 * every function will have deployed by). Days before the first step keep the one unsharded counter, so no day mixes
 * both layouts. 256: Alipay's 60,000 routed payments/s at 1 WCU each is ~235 WCU/s per counter, ~280 on the
 * hottest (random draws); 128 would leave the hottest at ~53 %. 512 from 2026-12-05: a reservation is now a
 * transaction with its record (2 WCU per counter update), which left 256 at ~55 %.
 */
export const DAILY_VOLUME_PLAN: readonly ShardStep[] = [
  { from: '2026-12-04', shards: 256 },
  { from: '2026-12-05', shards: 512 },
];

/**
 * The most counters one reservation takes from: a DynamoDB transaction holds at most 100 items, and the reservation's
 * own record (its confirmation pending) is one of them.
 */
export const MAX_SHARES = 99;

/** The number of counters of `day` (`yyyy-mm-dd`): 1 = the unsharded counter. */
export function dailyVolumeShards(day: string): number {
  return shardCount(DAILY_VOLUME_PLAN, day);
}

/**
 * How long a routed payment's reservation may stay unconfirmed before the sweep gives it back. Its creating
 * transaction confirms it (deletes its record) well within this: a create request lives at most as long as its
 * function's timeout (seconds), so a record still there this long after it was written belongs to a request that died
 * (or to a candidate left after a failed release) — and the creating transaction, which requires the record, can no
 * longer commit with it once the sweep took it.
 */
export const RESERVATION_SWEEP_AFTER_MS = 5 * 60_000;

/** The prefix of an unconfirmed reservation's entry in the minute timer's bucket (payments `pay_`, refunds `ref_`). */
const RESERVATION_ENTRY_PREFIX = 'vol_';

/** The timer-bucket entry (and record id) of the reservation made for `paymentId` at `channel`: one per candidate. */
export function reservationEntry(paymentId: string, channel: string): string {
  return `${RESERVATION_ENTRY_PREFIX}${paymentId}.${channel}`;
}

/** Whether a timer-bucket entry is an unconfirmed daily-volume reservation. */
export function isReservationEntry(entry: string): boolean {
  return entry.startsWith(RESERVATION_ENTRY_PREFIX);
}

/** When the sweep may give back a reservation made at `reservedAt` if nothing confirmed it. */
export function reservationSweepAt(reservedAt: Date): string {
  return new Date(reservedAt.getTime() + RESERVATION_SWEEP_AFTER_MS).toISOString();
}
