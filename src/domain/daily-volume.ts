/**
 * A channel's daily volume counter, sharded (pure arithmetic; `src/adapters/dynamo/daily-volume-repository.ts` keeps
 * the counters). A sharded day has N counters, counter k holding its share of the daily limit — the shares sum to the
 * limit exactly, so the day never exceeds it however the reservations spread (docs/channels.md, "Daily volume").
 */
import type { VolumeShare } from './payment.ts';

/**
 * How many counters a day has, by the first day of each count (never edit a past step; append one starting on a day
 * every function will have deployed by). Days before the first step keep the one unsharded counter, so no day mixes
 * both layouts. 256: Alipay's 60,000 routed payments/s at 1 WCU each is ~235 WCU/s per counter, ~280 on the
 * hottest (random draws); 128 would leave the hottest at ~53 %.
 */
export const DAILY_VOLUME_PLAN: readonly { from: string; shards: number }[] = [{ from: '2026-12-04', shards: 256 }];

/** The most counters one reservation takes from (a DynamoDB transaction holds at most 100 items). */
export const MAX_SHARES = 100;

/** The number of counters of `day` (`yyyy-mm-dd`): 1 = the unsharded counter. */
export function dailyVolumeShards(day: string): number {
  let shards = 1;
  for (const step of DAILY_VOLUME_PLAN) if (day >= step.from) shards = step.shards;
  return shards;
}

/** Counter `shard`'s share of the limit: ⌊limit / N⌋, the first `limit mod N` one more (they sum to the limit). */
export function shardCap(limitMinor: number, shards: number, shard: number): number {
  const base = Math.floor(limitMinor / shards);
  return base + (shard < limitMinor - base * shards ? 1 : 0);
}

/**
 * How to take `amountMinor` when no single counter holds it: from the counters with the most room first, as few as
 * can cover it (at most {@link MAX_SHARES}); undefined when they cannot, together.
 */
export function splitShares(
  totals: readonly number[],
  limitMinor: number,
  amountMinor: number,
): VolumeShare[] | undefined {
  const rooms = totals
    .map((total, shard) => ({ shard, room: shardCap(limitMinor, totals.length, shard) - total }))
    .filter(({ room }) => room > 0)
    .sort((a, b) => b.room - a.room || a.shard - b.shard);
  const shares: VolumeShare[] = [];
  let left = amountMinor;
  for (const { shard, room } of rooms) {
    if (left === 0 || shares.length === MAX_SHARES) break;
    const take = Math.min(room, left);
    shares.push({ shard, amountMinor: take });
    left -= take;
  }
  return left === 0 ? shares : undefined;
}
