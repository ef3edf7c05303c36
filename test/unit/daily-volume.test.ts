import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { channelKeys } from '#adapters/dynamo/channel-keys.ts';
import { DAILY_VOLUME_PLAN, dailyVolumeShards, MAX_SHARES, shardCap, splitShares } from '#domain/daily-volume.ts';

describe('sharded daily volume (pure)', () => {
  it('keeps days before the plan on the one unsharded counter, and its count from its first day on', () => {
    const first = DAILY_VOLUME_PLAN[0];
    if (!first) throw new Error('no plan');
    expect(dailyVolumeShards('2026-12-01')).toBe(1);
    expect(dailyVolumeShards(first.from)).toBe(first.shards);
    expect(channelKeys.daily('ALIPAY', '2026-12-01')).toEqual({ PK: 'CHANNEL#ALIPAY', SK: 'DAILY#2026-12-01' });
    expect(channelKeys.daily('ALIPAY', '2026-12-05', 17)).toEqual({ PK: 'VOLUME#ALIPAY#2026-12-05#17', SK: 'DAILY' });
  });

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
        (limit, seeds, amount) => {
          const totals = seeds.map((seed, k) => seed % (shardCap(limit, seeds.length, k) + 1));
          const room = totals.reduce((sum, total, k) => sum + shardCap(limit, seeds.length, k) - total, 0);
          const shares = splitShares(totals, limit, amount);
          if (shares === undefined) {
            // Refused only when the counters together lack room (or it would take more than MAX_SHARES of them).
            expect(room < amount || seeds.length > MAX_SHARES).toBe(true);
            return;
          }
          expect(shares.reduce((sum, share) => sum + share.amountMinor, 0)).toBe(amount);
          expect(shares.length).toBeLessThanOrEqual(MAX_SHARES);
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
});
