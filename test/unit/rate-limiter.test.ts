import { describe, expect, it } from 'vitest';
import type { RateBucketKey, RateLimitStore } from '#app/ports.ts';
import { RateLimiter } from '#app/rate-limiter.ts';
import { leaseUpdate } from '#domain/rate-limit.ts';

const T0 = Date.UTC(2026, 0, 1);
const SETTINGS = { write: { rate: 10, burst: 20 }, read: { rate: 100, burst: 200 }, leaseSize: 5 };
const merchant = { id: 'mch_unit' };

/**
 * The store's contract in memory (the DynamoDB one is tested on DynamoDB Local): the same two conditional cases,
 * applied atomically, counting calls.
 */
class MemoryStore implements RateLimitStore {
  readonly tats = new Map<string, number>();
  calls = 0;
  failWith?: Error;

  async take(key: RateBucketKey, request: Parameters<RateLimitStore['take']>[1]) {
    this.calls++;
    await Promise.resolve();
    if (this.failWith) throw this.failWith;
    const name = `${key.merchantId}/${key.routeClass}/${key.subBucket}`;
    const tat = this.tats.get(name);
    const { idleTat, busyMaxTat, cost } = leaseUpdate(request.nowUs, request.count, request.policy);
    const next = tat === undefined || tat <= request.nowUs ? idleTat : tat <= busyMaxTat ? tat + cost : undefined;
    if (next === undefined) return { taken: false, tat };
    this.tats.set(name, next);
    return { taken: true, tat: next };
  }
}

function limiter(store: RateLimitStore, clock: { now: number }, errors: unknown[] = [], home = 0) {
  return new RateLimiter(
    store,
    SETTINGS,
    () => new Date(clock.now),
    (error) => errors.push(error),
    home,
  );
}

describe('RateLimiter (one container)', () => {
  it('admits the burst, then refuses with Retry-After and the X-RateLimit figures', async () => {
    const clock = { now: T0 };
    const rl = limiter(new MemoryStore(), clock);
    const decisions = [];
    for (let i = 0; i < 21; i++) decisions.push(await rl.admit(merchant, 'write'));
    expect(decisions.filter((d) => d.admitted)).toHaveLength(20);
    expect(decisions[0]).toMatchObject({ admitted: true, limit: 20, remaining: 19 });
    expect(decisions[19]).toMatchObject({ admitted: true, remaining: 0 });
    expect(decisions[20]).toEqual({
      admitted: false,
      limit: 20,
      remaining: 0,
      resetAt: T0 / 1000 + 2,
      retryAfterSeconds: 1,
    });
  });

  it('refuses locally, without a store call, until its last view of the bucket says a token is back', async () => {
    const clock = { now: T0 };
    const store = new MemoryStore();
    const rl = limiter(store, clock);
    for (let i = 0; i < 20; i++) await rl.admit(merchant, 'write');
    await rl.admit(merchant, 'write');
    const calls = store.calls;
    for (let i = 0; i < 100; i++) expect((await rl.admit(merchant, 'write')).admitted).toBe(false);
    expect(store.calls).toBe(calls);
    clock.now += 100; // one token interval
    expect((await rl.admit(merchant, 'write')).admitted).toBe(true);
    expect(store.calls).toBe(calls + 1);
  });

  it('leases one token at a time while quiet, and doubles its batches up to the cap while busy', async () => {
    const clock = { now: T0 };
    const store = new MemoryStore();
    const rl = limiter(store, clock);
    for (let i = 0; i < 3; i++) {
      await rl.admit(merchant, 'read');
      clock.now += 1000;
    }
    expect(store.calls).toBe(3);
    // A busy second: leases of 1, 2, 4, then the cap (5 = the lease size; a tenth of the burst is 20).
    store.calls = 0;
    for (let i = 0; i < 7; i++) await rl.admit(merchant, 'read');
    expect(store.calls).toBe(3);
    for (let i = 0; i < 50; i++) await rl.admit(merchant, 'read');
    expect(store.calls).toBe(3 + 10);
  });

  it('serves concurrent requests from one lease at a time (a single lease in flight per bucket)', async () => {
    const clock = { now: T0 };
    const store = new MemoryStore();
    const rl = limiter(store, clock);
    const decisions = await Promise.all(Array.from({ length: 30 }, () => rl.admit(merchant, 'write')));
    expect(decisions.filter((d) => d.admitted)).toHaveLength(20);
    // The first lease takes one token (no demand seen yet); the rest take the lease cap (a tenth of the burst: 2).
    expect(store.calls).toBe(1 + Math.ceil(19 / 2));
    expect(store.tats.get('mch_unit/write/0')).toBe(T0 * 1000 + 20 * 100_000);
  });

  it('drops leased tokens it has not spent within a second (never spent late)', async () => {
    const clock = { now: T0 };
    const store = new MemoryStore();
    const rl = limiter(store, clock);
    for (let i = 0; i < 10; i++) await rl.admit(merchant, 'read');
    clock.now += 1000;
    await rl.admit(merchant, 'read'); // leases a batch, spends one
    clock.now += 1000;
    store.calls = 0;
    await rl.admit(merchant, 'read');
    expect(store.calls).toBe(1);
  });

  it('keeps merchants and route classes in separate buckets', async () => {
    const clock = { now: T0 };
    const rl = limiter(new MemoryStore(), clock);
    for (let i = 0; i < 20; i++) await rl.admit(merchant, 'write');
    expect((await rl.admit(merchant, 'write')).admitted).toBe(false);
    expect((await rl.admit(merchant, 'read')).admitted).toBe(true);
    expect((await rl.admit({ id: 'mch_other' }, 'write')).admitted).toBe(true);
  });

  it('holds a merchant to its own override', async () => {
    const clock = { now: T0 };
    const rl = limiter(new MemoryStore(), clock);
    const small = { id: 'mch_small', rateLimits: { write: { rate: 1, burst: 2 } } };
    const decisions = [await rl.admit(small, 'write'), await rl.admit(small, 'write'), await rl.admit(small, 'write')];
    expect(decisions.map((d) => d.admitted)).toEqual([true, true, false]);
    expect(decisions[2]).toMatchObject({ limit: 2, remaining: 0, retryAfterSeconds: 1 });
  });

  it('admits and reports when the store fails (fail open; API Gateway throttling stays the outer guard)', async () => {
    const clock = { now: T0 };
    const store = new MemoryStore();
    store.failWith = new Error('throttled');
    const errors: unknown[] = [];
    const rl = limiter(store, clock, errors);
    expect((await rl.admit(merchant, 'write')).admitted).toBe(true);
    expect(errors).toEqual([store.failWith]);
  });
});

describe('RateLimiter with sub-buckets (a merchant above 250 tokens/s)', () => {
  // 1,000 tokens/s, burst 100 → 4 sub-buckets of 250/s holding 25 each.
  const big = { id: 'mch_big', rateLimits: { write: { rate: 1000, burst: 100 } } };

  it('lets a lone container take the whole burst, starting on its own sub-bucket and keeping them level', async () => {
    const clock = { now: T0 };
    const store = new MemoryStore();
    const rl = limiter(store, clock, [], 0.6); // its own sub-bucket is ⌊0.6 × 4⌋ = 2
    expect((await rl.admit(big, 'write')).admitted).toBe(true);
    expect([...store.tats.keys()]).toEqual(['mch_big/write/2']);
    const decisions = [];
    for (let i = 0; i < 100; i++) decisions.push(await rl.admit(big, 'write'));
    expect(decisions.filter((d) => d.admitted)).toHaveLength(99);
    expect(decisions[0]).toMatchObject({ admitted: true, limit: 100 });
    expect(decisions[99]).toMatchObject({ admitted: false, limit: 100, remaining: 0, retryAfterSeconds: 1 });
    // Every sub-bucket was drawn down to empty: 25 tokens × 40 ms each.
    expect([...store.tats.entries()].sort()).toEqual(
      [0, 1, 2, 3].map((k) => [`mch_big/write/${k}`, T0 * 1000 + 25 * 4000]),
    );
  });

  it('admits the whole rate to a lone container under sustained demand (no sub-bucket left full)', async () => {
    const clock = { now: T0 };
    const rl = limiter(new MemoryStore(), clock, [], 0.3);
    let admitted = 0;
    for (let step = 0; step < 21; step++) {
      for (let i = 0; i < 80; i++) if ((await rl.admit(big, 'write')).admitted) admitted++;
      if (step < 20) clock.now += 50;
    }
    // Burst + rate × 1 s, less at most a lease's worth held unspent at the end (cap 2 = a tenth of 25).
    expect(admitted).toBeLessThanOrEqual(100 + 1000);
    expect(admitted).toBeGreaterThanOrEqual(100 + 1000 - 1);
  });

  it('admits at most burst + rate × elapsed over a fleet whose containers start on different sub-buckets', async () => {
    const clock = { now: T0 };
    const store = new MemoryStore();
    const fleet = Array.from({ length: 6 }, (_, i) => limiter(store, clock, [], i / 6));
    let admitted = 0;
    for (let step = 0; step < 20; step++) {
      const decisions = await Promise.all(
        fleet.flatMap((rl) => Array.from({ length: 30 }, () => rl.admit(big, 'write'))),
      );
      admitted += decisions.filter((d) => d.admitted).length;
      clock.now += 50;
    }
    const supply = 100 + 1000 * 0.95; // 19 steps of 50 ms after the first
    expect(admitted).toBeLessThanOrEqual(supply);
    expect(admitted).toBeGreaterThanOrEqual(0.9 * supply);
  });

  it('keeps the unsplit bucket (sub-bucket 0 only) for merchants at or under 250 tokens/s', async () => {
    const store = new MemoryStore();
    const rl = limiter(store, { now: T0 }, [], 0.99);
    await rl.admit({ id: 'mch_small', rateLimits: { write: { rate: 250, burst: 500 } } }, 'write');
    expect([...store.tats.keys()]).toEqual(['mch_small/write/0']);
  });
});
