/**
 * A limit kept on N counters instead of one hot key (pure arithmetic; the adapters keep the counters). Counter k holds
 * its share of the limit — the shares sum to the limit exactly, so no spread of reservations takes the whole over
 * it. A reservation takes its amount from one counter when that one has room, else splits it over the counters with
 * the most room (at most a bounded number of them, in one transaction); each part is given back to its own counter.
 * Used by the channels' daily volume (`daily-volume.ts`) and the risk engine's merchant-day limit (`risk-limits.ts`).
 */

/** A part of a sharded reservation: the counter it was taken from, and how much. */
export interface Share {
  shard: number;
  amountMinor: number;
}

/**
 * One step of a shard plan: from UTC day `from` (`yyyy-mm-dd`) on, `shards` counters. Days before the first step
 * keep the one unsharded counter; a day never mixes two counts, so a count change never loosens a day's limit.
 */
export interface ShardStep {
  readonly from: string;
  readonly shards: number;
}

/**
 * The count in force at `at` under `plan` (steps in order; `at` a day, minute or instant, compared as ISO-8601
 * text): 1 = the unsharded key. Also the plans of the sharded index keys (`SHARD_PLAN` in `keys.ts`).
 */
export function shardCount(plan: readonly ShardStep[], at: string): number {
  let count = 1;
  for (const step of plan) if (step.from <= at) count = step.shards;
  return count;
}

/**
 * `plan` changed to `shards` counters from the first UTC day that starts at least `marginMs` after `now` (never the
 * current day, so every reader of a day — caches included — agrees on its count). Steps no day from today on reads
 * are dropped; unchanged when that day already has the count.
 */
export function changePlan(plan: readonly ShardStep[], shards: number, now: Date, marginMs: number): ShardStep[] {
  const today = now.toISOString().slice(0, 10);
  const from = new Date(Date.parse(`${new Date(now.getTime() + marginMs).toISOString().slice(0, 10)}T00:00:00.000Z`));
  from.setUTCDate(from.getUTCDate() + 1);
  const fromDay = from.toISOString().slice(0, 10);
  if (shardCount(plan, fromDay) === shards) return [...plan];
  const inForce = plan.filter((step) => step.from <= today).at(-1);
  return [...(inForce ? [inForce] : []), { from: fromDay, shards }];
}

/** A random counter of `shards` (`random` in [0, 1)). */
export function pickShard(shards: number, random: () => number): number {
  return Math.min(shards - 1, Math.floor(random() * shards));
}

/** Counter `shard`'s share of the limit: ⌊limit / N⌋, the first `limit mod N` one more (they sum to the limit). */
export function shardCap(limitMinor: number, shards: number, shard: number): number {
  const base = Math.floor(limitMinor / shards);
  return base + (shard < limitMinor - base * shards ? 1 : 0);
}

/**
 * How to take `amountMinor` when no single counter holds it (`totals`: every counter's reserved total, by shard):
 * from the counters with the most room first, as few as can cover it (at most `maxShares`); undefined when they
 * cannot, together.
 */
export function splitShares(
  totals: readonly number[],
  limitMinor: number,
  amountMinor: number,
  maxShares: number,
): Share[] | undefined {
  const rooms = totals
    .map((total, shard) => ({ shard, room: shardCap(limitMinor, totals.length, shard) - total }))
    .filter(({ room }) => room > 0)
    .sort((a, b) => b.room - a.room || a.shard - b.shard);
  const shares: Share[] = [];
  let left = amountMinor;
  for (const { shard, room } of rooms) {
    if (left === 0 || shares.length === maxShares) break;
    const take = Math.min(room, left);
    shares.push({ shard, amountMinor: take });
    left -= take;
  }
  return left === 0 ? shares : undefined;
}

/**
 * The counters a check read: the day's count, and the totals of the counters read — one (picked at random) on the
 * fast path, every one of them when it lacked room (`totals[k]` = counter k's reserved total).
 */
export interface CountersRead {
  shards: number;
  totals: readonly { shard: number; totalMinor: number }[];
}

/**
 * The shares to reserve `amountMinor` with, from what was read: all of it on the one counter read when it has room,
 * else split over every counter (when all were read; at most `maxShares`); undefined when the limit lacks room.
 */
export function planShares(
  read: CountersRead,
  limitMinor: number,
  amountMinor: number,
  maxShares: number,
): Share[] | undefined {
  const [only] = read.totals;
  if (
    read.totals.length === 1 &&
    only &&
    only.totalMinor + amountMinor <= shardCap(limitMinor, read.shards, only.shard)
  )
    return [{ shard: only.shard, amountMinor }];
  if (read.totals.length !== read.shards) return undefined;
  const totals = Array.from<number>({ length: read.shards }).fill(0);
  for (const { shard, totalMinor } of read.totals) totals[shard] = totalMinor;
  return splitShares(totals, limitMinor, amountMinor, maxShares);
}

/** Whether the one counter read lacks room for `amountMinor`, so every counter must be read to split it. */
export function needsEveryCounter(read: CountersRead, limitMinor: number, amountMinor: number): boolean {
  return read.shards > 1 && read.totals.length === 1 && planShares(read, limitMinor, amountMinor, 1) === undefined;
}

/** The parts of a reservation to give back: its shares, or the whole amount of the one unsharded counter. */
export function reservedParts(
  amountMinor: number,
  shares: readonly Share[] | undefined,
): { shard?: number; amountMinor: number }[] {
  return shares ? [...shares] : [{ amountMinor }];
}
