import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCORE_CONFIG,
  health,
  rankCandidates,
  type ScoreInput,
  score,
  weightedOrder,
} from '#domain/channel-score.ts';

/** A deterministic [0, 1) sequence (mulberry32), so share tests are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const input = (code: string, weight: number, successRate = 1, latencyMs?: number): ScoreInput => ({
  code,
  weight,
  successRate,
  latencyMs,
});

describe('channel score', () => {
  it('is weight × rate⁸ × 500 / (500 + latency)', () => {
    expect(health(input('A', 1))).toBe(1);
    expect(health(input('A', 1, 0.9, 500))).toBeCloseTo(0.9 ** 8 * 0.5);
    expect(health(input('A', 1, 0.5, 1500))).toBeCloseTo(0.5 ** 8 * 0.25);
    expect(score(input('A', 4, 0.9, 500))).toBeCloseTo(4 * 0.9 ** 8 * 0.5);
    expect(score(input('A', -1))).toBe(0);
  });

  it('with random 0 puts the highest score first, then by score, ties by code', () => {
    const ranked = rankCandidates(
      [input('D', 1, 0.9), input('C', 3, 0.9), input('B', 1, 0.9), input('A', 1, 1), input('Z', 0)],
      () => 0,
    );
    expect(ranked.map((c) => c.code)).toEqual(['C', 'A', 'B', 'D', 'Z']);
  });

  it('shares traffic among healthy channels in proportion to their weights', () => {
    const share = shareOfFirst([input('A', 3, 1, 100), input('B', 1, 1, 100)], 'A');
    expect(share).toBeCloseTo(0.75, 1);
  });

  it('takes traffic away from a degrading channel smoothly', () => {
    const healthy = input('B', 1, 1, 100);
    const tenPercent = shareOfFirst([input('A', 1, 0.9, 100), healthy], 'A');
    const thirtyPercent = shareOfFirst([input('A', 1, 0.7, 100), healthy], 'A');
    expect(tenPercent).toBeGreaterThan(0.25);
    expect(tenPercent).toBeLessThan(0.35);
    expect(thirtyPercent).toBeLessThan(0.07);
  });

  it('is deterministic given its inputs and random draws, whatever the input order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            code: fc.constantFrom('ALIPAY', 'WECHAT_PAY', 'SANDBOX', 'X', 'Y'),
            weight: fc.integer({ min: 0, max: 10 }),
            successRate: fc.double({ min: 0, max: 1, noNaN: true }),
            latencyMs: fc.option(fc.integer({ min: 0, max: 5000 }), { nil: undefined }),
          }),
          { selector: (c) => c.code },
        ),
        fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 10, maxLength: 10 }),
        (candidates, draws) => {
          const source = () => {
            let i = 0;
            return () => draws[i++ % draws.length] ?? 0;
          };
          const once = rankCandidates(candidates, source()).map((c) => c.code);
          const again = rankCandidates([...candidates].reverse(), source()).map((c) => c.code);
          expect(again).toEqual(once);
          expect([...once].sort()).toEqual(candidates.map((c) => c.code).sort());
          const best = Math.max(0, ...candidates.map((c) => score(c, DEFAULT_SCORE_CONFIG)));
          const first = rankCandidates(candidates, () => 0)[0];
          if (first) expect(score(first)).toBe(best);
        },
      ),
    );
  });

  it('weightedOrder draws by weight and leaves zero weights last', () => {
    const items = [
      { code: 'A', weight: 1 },
      { code: 'Z', weight: 0 },
      { code: 'B', weight: 3 },
    ];
    expect(weightedOrder(items, () => 0).map((i) => i.code)).toEqual(['A', 'B', 'Z']);
    expect(weightedOrder(items, () => 0.3).map((i) => i.code)).toEqual(['B', 'A', 'Z']);
    expect(weightedOrder(items, () => 0.999).map((i) => i.code)).toEqual(['B', 'A', 'Z']);
  });
});

/** How often `code` comes first over 20 000 seeded draws. */
function shareOfFirst(candidates: ScoreInput[], code: string): number {
  const random = seeded(42);
  let wins = 0;
  for (let i = 0; i < 20_000; i++) if (rankCandidates(candidates, random)[0]?.code === code) wins++;
  return wins / 20_000;
}
