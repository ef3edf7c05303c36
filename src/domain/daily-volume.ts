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
 * hottest (random draws); 128 would leave the hottest at ~53 %.
 */
export const DAILY_VOLUME_PLAN: readonly ShardStep[] = [{ from: '2026-12-04', shards: 256 }];

/** The most counters one reservation takes from (a DynamoDB transaction holds at most 100 items). */
export const MAX_SHARES = 100;

/** The number of counters of `day` (`yyyy-mm-dd`): 1 = the unsharded counter. */
export function dailyVolumeShards(day: string): number {
  return shardCount(DAILY_VOLUME_PLAN, day);
}
