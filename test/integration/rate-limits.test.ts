import { afterAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/dynamo/audit-log.ts';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { DynamoRateLimitStore } from '#adapters/dynamo/rate-limit-store.ts';
import { setMerchantRateLimit } from '#app/merchant-admin.ts';
import { RateLimiter } from '#app/rate-limiter.ts';
import { withRequestContext } from '#app/request-context.ts';
import { leaseCap, maxOvershoot, subBucketCount, subBucketPolicy, tokenInterval } from '#domain/rate-limit.ts';
import { ValidationError } from '#shared/errors.ts';
import { TEST_TABLE } from '../support/constants.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

/**
 * Many containers (separate limiter instances, each with its own DynamoDB client and local leases) against ONE shared
 * bucket on DynamoDB Local, under a clock the test moves: the fleet admits at most burst + rate × window + C × (k − 1)
 * in every window, and exactly the bucket when time stands still.
 */
const T0 = Date.UTC(2026, 0, 1);
const SETTINGS = { write: { rate: 100, burst: 200 }, read: { rate: 100, burst: 200 }, leaseSize: 5 };
const clients: ReturnType<typeof createDocumentClient>[] = [];
afterAll(() => {
  for (const client of clients) client.destroy();
});

function containers(count: number, clock: { now: number }) {
  return Array.from({ length: count }, (_, i) => {
    const db = createDocumentClient();
    clients.push(db);
    return new RateLimiter(
      new DynamoRateLimitStore(db, TEST_TABLE),
      SETTINGS,
      () => new Date(clock.now),
      (error) => {
        throw error;
      },
      (i + 0.5) / count, // containers' own sub-buckets spread evenly, as random homes do on average
    );
  });
}

describe('fleet-wide rate limit on DynamoDB Local', () => {
  it('never admits more than the burst when 16 containers race for a bucket and time stands still', async () => {
    const clock = { now: T0 };
    const merchant = { id: uniqueId('mch'), rateLimits: { write: { rate: 0.01, burst: 100 } } };
    const fleet = containers(16, clock);
    const decisions = await Promise.all(
      fleet.flatMap((limiter) => Array.from({ length: 20 }, () => limiter.admit(merchant, 'write'))),
    );
    const admitted = decisions.filter((decision) => decision.admitted).length;
    // Every token was debited once; a container may still hold a few it had no request left to spend them on.
    expect(admitted).toBeLessThanOrEqual(100);
    expect(admitted).toBeGreaterThanOrEqual(100 - maxOvershoot(16, leaseCap(merchant.rateLimits.write, 5)));
    for (const refused of decisions.filter((decision) => !decision.admitted)) {
      expect(refused).toMatchObject({ limit: 100, remaining: 0, retryAfterSeconds: 100 });
    }
    // Every token was debited exactly once: the bucket is empty at exactly 100 tokens' worth.
    const probe = new DynamoRateLimitStore(clients[0] as ReturnType<typeof createDocumentClient>, TEST_TABLE);
    const policy = merchant.rateLimits.write;
    expect(
      await probe.take(
        { merchantId: merchant.id, routeClass: 'write', subBucket: 0 },
        { count: 1, nowUs: T0 * 1000, policy },
      ),
    ).toEqual({ taken: false, tat: T0 * 1000 + 100 * tokenInterval(policy) });
  }, 120_000);

  it('keeps 8 containers within burst + rate × window + C × (k − 1) in every window while the bucket refills', async () => {
    const clock = { now: T0 };
    const policy = { rate: 50, burst: 50 };
    const merchant = { id: uniqueId('mch'), rateLimits: { read: policy } };
    const fleet = containers(8, clock);
    const overshoot = maxOvershoot(fleet.length, leaseCap(policy, SETTINGS.leaseSize));
    const stepMs = 50;
    const steps = 40;
    const admittedPerStep: number[] = [];
    for (let step = 0; step < steps; step++) {
      const decisions = await Promise.all(
        fleet.flatMap((limiter) => Array.from({ length: 4 }, () => limiter.admit(merchant, 'read'))),
      );
      admittedPerStep.push(decisions.filter((decision) => decision.admitted).length);
      clock.now += stepMs;
    }
    const total = admittedPerStep.reduce((sum, n) => sum + n, 0);
    const elapsedS = ((steps - 1) * stepMs) / 1000;
    // The whole run starts from a full bucket: what was debited bounds what was admitted, overshoot or not.
    expect(total).toBeLessThanOrEqual(policy.burst + Math.floor(policy.rate * elapsedS));
    // Demand (32 per step) far exceeds supply, so nearly every token is used.
    expect(total).toBeGreaterThanOrEqual(0.8 * (policy.burst + policy.rate * elapsedS));
    for (let from = 0; from < steps; from++) {
      let inWindow = 0;
      for (let to = from; to < steps; to++) {
        inWindow += admittedPerStep[to] ?? 0;
        const windowS = ((to - from) * stepMs) / 1000;
        expect(inWindow, `steps ${from}..${to}`).toBeLessThanOrEqual(
          policy.burst + Math.floor(policy.rate * windowS) + overshoot,
        );
      }
    }
  }, 180_000);

  it('takes from a bucket another container left busy, learning its state from the failed condition', async () => {
    const store = new DynamoRateLimitStore(createDocumentClient(), TEST_TABLE);
    const key = { merchantId: uniqueId('mch'), routeClass: 'write' as const, subBucket: 0 };
    const policy = { rate: 1, burst: 3 };
    const nowUs = T0 * 1000;
    expect(await store.take(key, { count: 2, nowUs, policy })).toEqual({
      taken: true,
      tat: nowUs + 2 * tokenInterval(policy),
    });
    // This container has never seen the bucket, so it tries the idle case first; the item it gets back is busy.
    expect(await store.take(key, { count: 1, nowUs, policy })).toEqual({
      taken: true,
      tat: nowUs + 3 * tokenInterval(policy),
    });
    expect(await store.take(key, { count: 1, nowUs, policy, knownTat: nowUs })).toEqual({
      taken: false,
      tat: nowUs + 3 * tokenInterval(policy),
    });
    // A full second later one token is back.
    expect(await store.take(key, { count: 1, nowUs: nowUs + 1_000_000, policy, knownTat: nowUs })).toEqual({
      taken: true,
      tat: nowUs + 4 * tokenInterval(policy),
    });
  }, 60_000);

  it("sets and clears a merchant's own bucket as an audited operator change, refusing bad policies", async () => {
    const container = testContainer();
    const { merchant } = await newMerchant(container);
    const operator = { type: 'operator' as const, id: 'alice@ops' };
    const policy = { rate: 5, burst: 10 };
    await withRequestContext({ actor: operator }, () =>
      setMerchantRateLimit(container, merchant.id, { routeClass: 'write', policy }),
    );
    expect((await container.merchants.get(merchant.id))?.rateLimits).toEqual({ write: policy });
    for (const bad of [
      { rate: 0, burst: 1 },
      { rate: 1, burst: 0.5 },
      { rate: Number.NaN, burst: 1 },
    ]) {
      await expect(
        setMerchantRateLimit(container, merchant.id, { routeClass: 'write', policy: bad }),
      ).rejects.toBeInstanceOf(ValidationError);
    }
    await withRequestContext({ actor: operator }, () =>
      setMerchantRateLimit(container, merchant.id, { routeClass: 'write', policy: null }),
    );
    expect((await container.merchants.get(merchant.id))?.rateLimits).toBeUndefined();
    const log = new DynamoAuditLog(container.db, container.config.tableName);
    const trail = await log.list({
      since: new Date(Date.now() - 3_600_000),
      until: new Date(Date.now() + 60_000),
      merchantId: merchant.id,
    });
    const changes = trail.filter((record) => record.action === 'merchant.rate_limits_changed');
    expect(changes).toHaveLength(2);
    for (const change of changes) expect(change.actor).toEqual(operator);
    expect(changes.map((change) => change.after?.rateLimits ?? null)).toEqual(
      expect.arrayContaining([{ write: policy }, null]),
    );
  }, 60_000);
});

describe('sub-buckets on DynamoDB Local (a merchant configured above 250 tokens/s)', () => {
  // 600 tokens/s → ⌈600 / 250⌉ = 3 sub-buckets (RATE#{m}#read, #1, #2), each 200/s holding 100 of the 300.
  const policy = { rate: 600, burst: 300 };

  it('admits the whole burst across its sub-buckets when 16 containers race and time stands still', async () => {
    expect(subBucketCount(policy)).toBe(3);
    const clock = { now: T0 };
    const merchant = { id: uniqueId('mch'), rateLimits: { read: policy } };
    const fleet = containers(16, clock);
    const decisions = await Promise.all(
      fleet.flatMap((limiter) => Array.from({ length: 25 }, () => limiter.admit(merchant, 'read'))),
    );
    const admitted = decisions.filter((decision) => decision.admitted).length;
    const cap = leaseCap(subBucketPolicy(policy, 3, 0), SETTINGS.leaseSize);
    expect(admitted).toBeLessThanOrEqual(policy.burst);
    expect(admitted).toBeGreaterThanOrEqual(policy.burst - maxOvershoot(16, cap));
    for (const refused of decisions.filter((decision) => !decision.admitted)) {
      expect(refused).toMatchObject({ limit: 300, remaining: 0, retryAfterSeconds: 1 });
    }
    // Every sub-bucket was drawn down to empty, each under its own key.
    const probe = new DynamoRateLimitStore(clients[0] as ReturnType<typeof createDocumentClient>, TEST_TABLE);
    for (const subBucket of [0, 1, 2]) {
      const own = subBucketPolicy(policy, 3, subBucket);
      const key = { merchantId: merchant.id, routeClass: 'read' as const, subBucket };
      expect(await probe.take(key, { count: 1, nowUs: T0 * 1000, policy: own })).toEqual({
        taken: false,
        tat: T0 * 1000 + own.burst * tokenInterval(own),
      });
    }
  }, 180_000);

  it('lets a lone container use the whole rate: it draws every sub-bucket, not only its own', async () => {
    const clock = { now: T0 };
    const merchant = { id: uniqueId('mch'), rateLimits: { read: policy } };
    const [lone] = containers(1, clock);
    if (!lone) throw new Error('no container');
    const stepMs = 100;
    const steps = 11;
    let admitted = 0;
    for (let step = 0; step < steps; step++) {
      // Demand (90 per 100 ms) exceeds the 60 tokens the whole bucket refills in 100 ms.
      for (let i = 0; i < 90; i++) if ((await lone.admit(merchant, 'read')).admitted) admitted++;
      if (step < steps - 1) clock.now += stepMs;
    }
    const elapsedS = ((steps - 1) * stepMs) / 1000;
    // Burst + rate × elapsed of the whole bucket, not of one sub-bucket (100 + 200 × 1 s).
    expect(admitted).toBeLessThanOrEqual(policy.burst + policy.rate * elapsedS);
    // ... and no less but for a lease it may still hold unspent: it drew the fullest sub-bucket each time, so none sat
    // full, wasting its refill, while another was drawn down.
    const cap = leaseCap(subBucketPolicy(policy, 3, 0), SETTINGS.leaseSize);
    expect(admitted).toBeGreaterThanOrEqual(policy.burst + policy.rate * elapsedS - (cap - 1));
  }, 180_000);
});
