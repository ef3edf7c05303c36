import {
  availableTokens,
  LEASE_TTL_US,
  type LeaseHistory,
  leaseCap,
  leaseCount,
  policyFor,
  type RateLimitOverrides,
  type RateLimitSettings,
  type RatePolicy,
  type RouteClass,
  resetEpochSeconds,
  retryAfterSeconds,
} from '#domain/rate-limit.ts';
import type { RateBucketKey, RateLimitStore } from './ports.ts';

/** What the rate limiter decided, with the figures of the `X-RateLimit-*` headers. */
export interface RateDecision {
  admitted: boolean;
  /** The bucket's capacity (`X-RateLimit-Limit`). */
  limit: number;
  /** Tokens left, as this container sees the fleet's bucket (`X-RateLimit-Remaining`). */
  remaining: number;
  /** Epoch seconds at which the bucket is full again (`X-RateLimit-Reset`). */
  resetAt: number;
  /** Set when not admitted: whole seconds until a token is back (`Retry-After`). */
  retryAfterSeconds?: number;
}

/** This container's view of one bucket: the last shared state it saw and the tokens it leased and has not spent. */
interface LocalBucket {
  /** The shared `tat` as last seen: a lower bound of the real one (it only ever grows). */
  tat?: number;
  tokens: number;
  tokensExpireAt: number;
  /** The one lease in flight for this bucket in this container; other requests wait for it. */
  leasing?: Promise<void>;
  /** The lease the tokens came from (sizes the next one). */
  lastLease?: LeaseHistory;
}

/**
 * A failed lease always leaves this container seeing fewer tokens than before (another one took them), so leasing
 * again ends when the bucket is empty; this bound only guards against a store that answers nonsense.
 */
const MAX_LEASES_PER_REQUEST = 8;

/**
 * The per-merchant, per-route-class rate limiter of one container (one per Lambda execution environment). Tokens are
 * leased from the fleet-wide bucket in the store in batches sized by how fast this container spent the last one, and spent
 * locally; a bucket this container has seen empty refuses locally, at no DynamoDB cost, until its refill time. See
 * docs/rate-limits.md for the overshoot bound and the cost per request.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, LocalBucket>();

  /**
   * @param onStoreError called when the store fails; the request is then admitted (fail open: API Gateway's stage
   *   throttling stays the outer guard, and the merchant already passed authentication)
   */
  constructor(
    private readonly store: RateLimitStore,
    private readonly settings: RateLimitSettings,
    private readonly clock: () => Date,
    private readonly onStoreError: (error: unknown) => void,
  ) {}

  /** Admits or refuses one authenticated request of a merchant; never throws for a store failure. */
  async admit(
    merchant: { id: string; rateLimits?: RateLimitOverrides },
    routeClass: RouteClass,
  ): Promise<RateDecision> {
    const policy = policyFor(this.settings, merchant.rateLimits, routeClass);
    const key = { merchantId: merchant.id, routeClass };
    const bucket = this.bucketOf(key);
    for (let leases = 0; ; ) {
      const nowUs = this.nowUs();
      if (nowUs >= bucket.tokensExpireAt) bucket.tokens = 0;
      if (bucket.tokens > 0 && bucket.lastLease) {
        bucket.tokens--;
        bucket.lastLease.spent++;
        return this.decision(bucket, policy, nowUs, true);
      }
      if (availableTokens(bucket.tat, nowUs, policy) < 1 || leases >= MAX_LEASES_PER_REQUEST) {
        return this.decision(bucket, policy, nowUs, false);
      }
      if (!bucket.leasing) {
        leases++;
        bucket.leasing = this.lease(key, bucket, policy, nowUs).finally(() => {
          bucket.leasing = undefined;
        });
      }
      try {
        await bucket.leasing;
      } catch (error) {
        this.onStoreError(error);
        return this.decision(bucket, policy, this.nowUs(), true);
      }
    }
  }

  /** Takes a batch of tokens from the shared bucket (fewer if it holds fewer) into this container's. */
  private async lease(key: RateBucketKey, bucket: LocalBucket, policy: RatePolicy, nowUs: number): Promise<void> {
    const wanted = leaseCount(leaseCap(policy, this.settings.leaseSize), bucket.lastLease, nowUs);
    const count = Math.min(wanted, availableTokens(bucket.tat, nowUs, policy));
    if (count < 1) return;
    const result = await this.store.take(key, { count, nowUs, policy, knownTat: bucket.tat });
    if (result.tat !== undefined) bucket.tat = Math.max(bucket.tat ?? 0, result.tat);
    if (result.taken) {
      // Their lifetime starts now, not when the lease was asked for: a slow store must not hand out expired tokens.
      const leasedAtUs = this.nowUs();
      bucket.tokens = count;
      bucket.tokensExpireAt = leasedAtUs + LEASE_TTL_US;
      bucket.lastLease = { count, spent: 0, atUs: leasedAtUs };
    }
  }

  private decision(bucket: LocalBucket, policy: RatePolicy, nowUs: number, admitted: boolean): RateDecision {
    return {
      admitted,
      limit: policy.burst,
      remaining: Math.min(policy.burst, bucket.tokens + availableTokens(bucket.tat, nowUs, policy)),
      resetAt: resetEpochSeconds(bucket.tat, nowUs),
      ...(admitted ? {} : { retryAfterSeconds: retryAfterSeconds(bucket.tat, nowUs, policy) }),
    };
  }

  private bucketOf(key: RateBucketKey): LocalBucket {
    const name = `${key.routeClass} ${key.merchantId}`;
    let bucket = this.buckets.get(name);
    if (!bucket) {
      bucket = { tokens: 0, tokensExpireAt: 0 };
      this.buckets.set(name, bucket);
    }
    return bucket;
  }

  private nowUs(): number {
    return this.clock().getTime() * 1000;
  }
}
