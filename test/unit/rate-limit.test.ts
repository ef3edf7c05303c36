import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  availableTokens,
  leaseCap,
  leaseCount,
  leaseUpdate,
  maxOvershoot,
  policyFor,
  resetEpochSeconds,
  retryAfterSeconds,
  routeClassOf,
  SUB_BUCKET_MAX_RATE,
  subBucketCount,
  subBucketPolicy,
  tokenInterval,
} from '#domain/rate-limit.ts';
import { loadConfig } from '#shared/config.ts';

const S = 1_000_000; // microseconds per second
const T0 = 1_764_000_000 * S;
const policy = { rate: 10, burst: 20 }; // one token per 100 ms

/** The stored state after one take, as DynamoDB applies {@link leaseUpdate}'s two cases; undefined: refused. */
function take(tat: number | undefined, nowUs: number, count: number, p = policy): number | undefined {
  const { idleTat, busyMaxTat, cost } = leaseUpdate(nowUs, count, p);
  if (tat === undefined || tat <= nowUs) return idleTat;
  return tat <= busyMaxTat ? tat + cost : undefined;
}

describe('token bucket (GCRA form)', () => {
  it('starts full and empties exactly at its burst', () => {
    expect(availableTokens(undefined, T0, policy)).toBe(20);
    let tat: number | undefined;
    for (let i = 0; i < 20; i++) {
      tat = take(tat, T0, 1);
      expect(tat).toBeDefined();
    }
    expect(availableTokens(tat, T0, policy)).toBe(0);
    expect(take(tat, T0, 1)).toBeUndefined();
  });

  it('refills one token per interval, not a microsecond earlier', () => {
    let tat: number | undefined = T0;
    for (let i = 0; i < 20; i++) tat = take(tat, T0, 1);
    const interval = tokenInterval(policy);
    expect(availableTokens(tat, T0 + interval - 1, policy)).toBe(0);
    expect(take(tat, T0 + interval - 1, 1)).toBeUndefined();
    expect(availableTokens(tat, T0 + interval, policy)).toBe(1);
    expect(take(tat, T0 + interval, 1)).toBe((tat ?? 0) + interval);
    expect(availableTokens(tat, T0 + 20 * interval, policy)).toBe(20);
    expect(availableTokens(tat, T0 + 60 * S, policy)).toBe(20);
  });

  it('takes a batch only while the bucket holds all of it', () => {
    const tat = take(undefined, T0, 15) as number;
    expect(availableTokens(tat, T0, policy)).toBe(5);
    expect(take(tat, T0, 6)).toBeUndefined();
    expect(take(tat, T0, 5)).toBe(T0 + 20 * tokenInterval(policy));
  });

  it('rounds the interval up, so a bucket never refills faster than its rate', () => {
    expect(tokenInterval({ rate: 3, burst: 1 })).toBe(333_334);
    expect(tokenInterval({ rate: 0.01, burst: 1 })).toBe(100 * S);
    expect(tokenInterval({ rate: 100_000, burst: 1 })).toBe(10);
  });

  it('never admits more than burst + rate × elapsed, whatever the takes (property)', () => {
    fc.assert(
      fc.property(
        fc.record({ rate: fc.integer({ min: 1, max: 1000 }), burst: fc.integer({ min: 1, max: 500 }) }),
        fc.array(fc.record({ gapUs: fc.integer({ min: 0, max: 2 * S }), count: fc.integer({ min: 1, max: 20 }) }), {
          maxLength: 200,
        }),
        (p, takes) => {
          let tat: number | undefined;
          let now = T0;
          let admitted = 0;
          for (const { gapUs, count } of takes) {
            now += gapUs;
            if (count > p.burst) continue;
            const next = take(tat, now, count, p);
            if (next === undefined) continue;
            // The stored state only ever grows, so a container's last view is a lower bound of it.
            expect(next).toBeGreaterThan(tat ?? 0);
            tat = next;
            admitted += count;
          }
          expect(admitted).toBeLessThanOrEqual(p.burst + Math.floor(((now - T0) * p.rate) / S));
        },
      ),
    );
  });
});

describe('rate-limit headers', () => {
  it('says when the next token is back (Retry-After, at least 1 s) and when the bucket is full (Reset)', () => {
    const slow = { rate: 0.5, burst: 2 }; // a token per 2 s
    let tat = take(undefined, T0, 2, slow) as number;
    expect(retryAfterSeconds(tat, T0, slow)).toBe(2);
    expect(resetEpochSeconds(tat, T0)).toBe(T0 / S + 4);
    expect(retryAfterSeconds(tat, T0 + 1_500_000, slow)).toBe(1);
    tat = take(tat, T0 + 2 * S, 1, slow) as number;
    expect(retryAfterSeconds(tat, T0 + 2 * S, slow)).toBe(2);
    expect(retryAfterSeconds(undefined, T0, slow)).toBe(1);
    expect(resetEpochSeconds(undefined, T0 + 1)).toBe(T0 / S + 1);
  });
});

describe('leases', () => {
  it('caps a lease at the lease size and a tenth of the burst, at least one token', () => {
    expect(leaseCap({ rate: 100, burst: 200 }, 10)).toBe(10);
    expect(leaseCap({ rate: 100, burst: 50 }, 10)).toBe(5);
    expect(leaseCap({ rate: 1, burst: 3 }, 10)).toBe(1);
  });

  it('sizes a lease from how the last one went: double when used up within a second, else what was spent', () => {
    expect(leaseCount(10, undefined, T0)).toBe(1);
    expect(leaseCount(10, { count: 1, spent: 1, atUs: T0 }, T0 + 50_000)).toBe(2);
    expect(leaseCount(10, { count: 8, spent: 8, atUs: T0 }, T0 + 999_999)).toBe(10);
    // A quiet container: its single token lasted more than a lease lifetime, so it keeps leasing one.
    expect(leaseCount(10, { count: 1, spent: 1, atUs: T0 }, T0 + S)).toBe(1);
    expect(leaseCount(10, { count: 6, spent: 6, atUs: T0 }, T0 + 3 * S)).toBe(6);
    // Tokens dropped unspent: lease what was used.
    expect(leaseCount(10, { count: 8, spent: 3, atUs: T0 }, T0 + S)).toBe(3);
    expect(leaseCount(10, { count: 8, spent: 0, atUs: T0 }, T0 + S)).toBe(1);
  });

  it('bounds the overshoot by C × (lease cap − 1): exact when containers lease one token at a time', () => {
    expect(maxOvershoot(16, 10)).toBe(144);
    expect(maxOvershoot(16, 1)).toBe(0);
  });
});

describe('route classes and policies', () => {
  it('limits GET and HEAD as reads and everything else as writes', () => {
    expect(routeClassOf('GET')).toBe('read');
    expect(routeClassOf('head')).toBe('read');
    expect(routeClassOf('POST')).toBe('write');
    expect(routeClassOf('DELETE')).toBe('write');
  });

  it("holds a merchant to its override of a class, else to the gateway's default", () => {
    const settings = { write: { rate: 100, burst: 200 }, read: { rate: 50, burst: 100 }, leaseSize: 10 };
    expect(policyFor(settings, undefined, 'write')).toEqual({ rate: 100, burst: 200 });
    expect(policyFor(settings, { write: { rate: 1, burst: 2 } }, 'write')).toEqual({ rate: 1, burst: 2 });
    expect(policyFor(settings, { write: { rate: 1, burst: 2 } }, 'read')).toEqual({ rate: 50, burst: 100 });
  });

  it('reads the default buckets from the environment, refusing anything but positive numbers', () => {
    const env = { TABLE_NAME: 't', PUBLIC_BASE_URL: 'https://pay.example' };
    expect(loadConfig(env).rateLimits).toEqual({
      write: { rate: 25, burst: 50 },
      read: { rate: 25, burst: 50 },
      leaseSize: 10,
    });
    expect(loadConfig({ ...env, RATE_LIMIT_READ_RATE: '0.5', RATE_LIMIT_LEASE_SIZE: '4' }).rateLimits).toMatchObject({
      read: { rate: 0.5, burst: 50 },
      leaseSize: 4,
    });
    for (const [name, value] of [
      ['RATE_LIMIT_WRITE_RATE', '0'],
      ['RATE_LIMIT_WRITE_BURST', '1.5'],
      ['RATE_LIMIT_READ_BURST', 'many'],
      ['RATE_LIMIT_LEASE_SIZE', '-1'],
    ] as const) {
      expect(() => loadConfig({ ...env, [name]: value }), name).toThrow(name);
    }
  });
});

describe('sub-buckets', () => {
  it('splits a bucket by its rate, 250 tokens/s each, never into more sub-buckets than tokens of burst', () => {
    expect(subBucketCount({ rate: 25, burst: 50 })).toBe(1);
    expect(subBucketCount({ rate: 250, burst: 500 })).toBe(1);
    expect(subBucketCount({ rate: 251, burst: 500 })).toBe(2);
    expect(subBucketCount({ rate: 20_000, burst: 40_000 })).toBe(80);
    expect(subBucketCount({ rate: 100_000, burst: 3 })).toBe(3);
  });

  it("gives each sub-bucket an even share of the rate and whole tokens summing to the bucket's burst (property)", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 100_000, noNaN: true }),
        fc.integer({ min: 1, max: 100_000 }),
        (rate, burst) => {
          const policy = { rate, burst };
          const count = subBucketCount(policy);
          const subs = Array.from({ length: count }, (_, i) => subBucketPolicy(policy, count, i));
          expect(subs.reduce((n, s) => n + s.burst, 0)).toBe(burst);
          for (const sub of subs) {
            expect(Number.isInteger(sub.burst) && sub.burst >= 1).toBe(true);
            expect(sub.rate).toBeCloseTo(rate / count, 9);
            if (Math.ceil(rate / SUB_BUCKET_MAX_RATE) <= burst)
              expect(sub.rate).toBeLessThanOrEqual(SUB_BUCKET_MAX_RATE);
          }
        },
      ),
    );
  });
});
