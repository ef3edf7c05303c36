import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { merchantListingRegimes, paymentIndexes, refundIndexes } from '#adapters/dynamo/keys.ts';
import { clip } from '#adapters/dynamo/merchant-listing.ts';
import {
  appendListingShardStep,
  LISTING_STEP_MIN_LEAD_MS,
  type ListingShardStep,
  listingShardsAt,
  MAX_LISTING_SHARDS,
  MERCHANT_LISTING_SHARDS_SINCE,
} from '#domain/listing-shards.ts';
import { ValidationError } from '#shared/errors.ts';

const DAY = 86_400_000;
const instant = (ms: number) => new Date(ms).toISOString();
/** Creation times from a month before the global plan's first step to a few months after the cutover. */
const createdAt = fc.integer({ min: Date.parse('2026-10-15'), max: Date.parse('2027-04-01') }).map(instant);
/** Growing steps, each after the previous one, some before the cutover (they apply from it). */
const steps = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 40 * DAY }), fc.integer({ min: 1, max: 64 })), { maxLength: 5 })
  .map((gaps) => {
    let at = Date.parse('2026-12-02');
    let shards = 1;
    return gaps.map(([gap, more]): ListingShardStep => {
      at += gap;
      shards = Math.min(MAX_LISTING_SHARDS, shards + more);
      return { from: instant(at), shards };
    });
  });

describe('per-merchant listing shards', () => {
  it('every item is in exactly one regime, and in one of the partitions the reader queries for it', () => {
    fc.assert(
      fc.property(
        steps,
        createdAt,
        fc.stringMatching(/^[a-z]{3}_[A-Za-z0-9]{1,20}$/),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        fc.nat({ max: 5 * DAY }),
        fc.nat({ max: 5 * DAY }),
        (merchantSteps, at, id, fraction, isRefund, before, after) => {
          const inForce = listingShardsAt(merchantSteps, at);
          // Its own count, or a smaller one a refund or event takes over from a payment created earlier.
          const recorded = Math.max(1, Math.ceil(fraction * inForce));
          const index = isRefund ? refundIndexes.byMerchant : paymentIndexes.byMerchant;
          const { GSI1PK, GSI1SK } = index('mch_1', at, id, recorded);
          const regimes = merchantListingRegimes('mch_1', isRefund ? 'refunds' : 'payments', merchantSteps);
          const holding = regimes.filter(
            (regime) =>
              (regime.from === undefined || regime.from <= GSI1SK) && (regime.to === undefined || GSI1SK < regime.to),
          );
          expect(holding).toHaveLength(1);
          expect(holding[0]?.partitions).toContain(GSI1PK);
          // Any page range holding it (`created_gte` at or before it, `created_lt` or a cursor after it) reads that
          // regime with a sort-key range that still holds it.
          const lower = instant(Date.parse(at) - before);
          const upper = after === 0 ? `${GSI1SK}~` : instant(Date.parse(at) + after);
          const range = holding[0] && clip({ lower, upper }, holding[0]);
          expect(range).toBeTruthy();
          expect((range?.lower ?? '') <= GSI1SK && (range?.upper === undefined || GSI1SK < range.upper)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('lists regimes newest first, contiguous, each step of the merchant its own', () => {
    const merchantSteps = [
      { from: '2026-12-20T00:00:00.000Z', shards: 16 },
      { from: '2027-01-10T12:00:00.000Z', shards: 256 },
    ];
    const regimes = merchantListingRegimes('mch_1', 'events', merchantSteps);
    expect(regimes.map((regime) => [regime.from, regime.to, regime.partitions.length])).toEqual([
      ['2027-01-10T12:00:00.000Z', undefined, 256],
      ['2026-12-20T00:00:00.000Z', '2027-01-10T12:00:00.000Z', 16],
      [MERCHANT_LISTING_SHARDS_SINCE, '2026-12-20T00:00:00.000Z', 1],
      ['2026-12-03', MERCHANT_LISTING_SHARDS_SINCE, 256],
      ['2026-12-01', '2026-12-03', 128],
      [undefined, '2026-12-01', 1],
    ]);
    expect(regimes[2]?.partitions).toEqual(['MERCHANT#mch_1#EVENTS#0']);
    expect(regimes[5]?.partitions).toEqual(['MERCHANT#mch_1#EVENTS']);
  });

  it('a count in force: the default, then the steps; before the cutover, the one at the cutover', () => {
    const merchantSteps = [{ from: '2026-12-04T00:00:00.000Z', shards: 8 }];
    expect(listingShardsAt(undefined, '2027-01-01T00:00:00.000Z')).toBe(1);
    expect(listingShardsAt(merchantSteps, '2026-12-02T00:00:00.000Z')).toBe(8);
    expect(listingShardsAt([{ from: '2026-12-09T00:00:00.000Z', shards: 8 }], '2026-12-08T23:59:59.999Z')).toBe(1);
  });

  it('appends only steps that start far enough ahead, after the last one, with a larger count', () => {
    const now = new Date('2026-12-10T00:00:00.000Z');
    const soon = instant(now.getTime() + LISTING_STEP_MIN_LEAD_MS);
    const first = appendListingShardStep(undefined, { from: soon, shards: 16 }, now, LISTING_STEP_MIN_LEAD_MS);
    expect(first).toEqual([{ from: soon, shards: 16 }]);
    const later = instant(now.getTime() + DAY);
    expect(appendListingShardStep(first, { from: later, shards: 64 }, now, LISTING_STEP_MIN_LEAD_MS)).toHaveLength(2);
    const refused = [
      { from: instant(now.getTime() + LISTING_STEP_MIN_LEAD_MS - 1), shards: 16 },
      { from: later, shards: 16 },
      { from: later, shards: 8 },
      { from: soon, shards: 64 },
      { from: later, shards: MAX_LISTING_SHARDS + 1 },
      { from: later, shards: 1.5 },
    ];
    for (const step of refused) {
      expect(() => appendListingShardStep(first, step, now, LISTING_STEP_MIN_LEAD_MS)).toThrow(ValidationError);
    }
  });
});
