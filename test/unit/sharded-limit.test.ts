import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SHARES } from '#domain/daily-volume.ts';
import { MERCHANT_DAY_MAX_SHARES } from '#domain/risk-limits.ts';
import {
  changePlan,
  needsEveryCounter,
  planShares,
  reservedParts,
  shardCap,
  shardCount,
  splitShares,
} from '#domain/sharded-limit.ts';

const HOUR = 3_600_000;

describe('sharded limit (pure)', () => {
  it('splits a limit into counter shares that sum to it exactly (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e12 }), fc.integer({ min: 1, max: 256 }), (limit, shards) => {
        const caps = Array.from({ length: shards }, (_, k) => shardCap(limit, shards, k));
        expect(caps.reduce((a, b) => a + b, 0)).toBe(limit);
        expect(Math.max(...caps) - Math.min(...caps)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('takes an amount no counter holds alone from those with the most room, never over a share (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 128 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom(MAX_SHARES, MERCHANT_DAY_MAX_SHARES),
        (limit, seeds, amount, maxShares) => {
          const totals = seeds.map((seed, k) => seed % (shardCap(limit, seeds.length, k) + 1));
          const rooms = totals.map((total, k) => shardCap(limit, seeds.length, k) - total);
          const room = rooms.reduce((sum, r) => sum + r, 0);
          const shares = splitShares(totals, limit, amount, maxShares);
          if (shares === undefined) {
            // Refused only when the counters together lack room, or the `maxShares` roomiest ones do.
            const best = [...rooms].sort((a, b) => b - a).slice(0, maxShares);
            expect(room < amount || best.reduce((sum, r) => sum + r, 0) < amount).toBe(true);
            return;
          }
          expect(shares.reduce((sum, share) => sum + share.amountMinor, 0)).toBe(amount);
          expect(shares.length).toBeLessThanOrEqual(maxShares);
          expect(new Set(shares.map((share) => share.shard)).size).toBe(shares.length);
          for (const share of shares) {
            expect(share.amountMinor).toBeGreaterThan(0);
            expect((totals[share.shard] ?? 0) + share.amountMinor).toBeLessThanOrEqual(
              shardCap(limit, seeds.length, share.shard),
            );
          }
        },
      ),
    );
  });

  it('plans from the counter read when it has room, else asks for every counter and splits (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.nat(), { minLength: 2, maxLength: 64 }),
        fc.nat(),
        fc.integer({ min: 1, max: 1_000_000 }),
        (limit, seeds, pick, amount) => {
          const shards = seeds.length;
          const totals = seeds.map((seed, k) => seed % (shardCap(limit, shards, k) + 1));
          const shard = pick % shards;
          const one = { shards, totals: [{ shard, totalMinor: totals[shard] ?? 0 }] };
          const every = { shards, totals: totals.map((totalMinor, k) => ({ shard: k, totalMinor })) };
          const fast = planShares(one, limit, amount, MERCHANT_DAY_MAX_SHARES);
          expect(needsEveryCounter(one, limit, amount)).toBe(fast === undefined);
          const shares = fast ?? planShares(every, limit, amount, MERCHANT_DAY_MAX_SHARES);
          if (fast) expect(fast).toEqual([{ shard, amountMinor: amount }]);
          for (const share of shares ?? []) {
            expect((totals[share.shard] ?? 0) + share.amountMinor).toBeLessThanOrEqual(
              shardCap(limit, shards, share.shard),
            );
          }
          if (shares) expect(shares.reduce((sum, share) => sum + share.amountMinor, 0)).toBe(amount);
          else expect(totals.reduce((sum, total) => sum + total, 0) + amount > limit || shards > 1).toBe(true);
        },
      ),
    );
  });

  it('changes a count from a later UTC day only, so no day mixes two counts', () => {
    const noon = new Date('2026-12-02T12:00:00.000Z');
    const plan = changePlan([], 16, noon, HOUR);
    expect(plan).toEqual([{ from: '2026-12-03', shards: 16 }]);
    expect(shardCount(plan, '2026-12-02')).toBe(1);
    expect(shardCount(plan, '2026-12-03')).toBe(16);
    // Within the margin of midnight, the day after next (caches still hold the old count at midnight).
    expect(changePlan([], 16, new Date('2026-12-02T23:30:00.000Z'), HOUR)).toEqual([
      { from: '2026-12-04', shards: 16 },
    ]);
    // A second change the same day replaces the pending step; today's count stays.
    const later = changePlan(
      changePlan(plan, 64, new Date('2026-12-05T08:00:00.000Z'), HOUR),
      8,
      new Date('2026-12-05T09:00:00.000Z'),
      HOUR,
    );
    expect(later).toEqual([
      { from: '2026-12-03', shards: 16 },
      { from: '2026-12-06', shards: 8 },
    ]);
    expect(shardCount(later, '2026-12-05')).toBe(16);
    expect(changePlan(later, 8, new Date('2026-12-05T10:00:00.000Z'), HOUR)).toEqual(later);
    expect(changePlan([], 1, noon, HOUR)).toEqual([]);
  });

  it('gives back each share, or the whole amount of the unsharded counter', () => {
    expect(reservedParts(500, undefined)).toEqual([{ amountMinor: 500 }]);
    expect(reservedParts(500, [{ shard: 2, amountMinor: 500 }])).toEqual([{ shard: 2, amountMinor: 500 }]);
  });
});
