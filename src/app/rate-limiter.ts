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
  subBucketCount,
  subBucketPolicy,
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

/** This container's view of one (sub-)bucket: the last shared state it saw and the tokens it leased and has not spent. */
interface LocalBucket {
  /** The shared `tat` as last seen: a lower bound of the real one (it only ever grows). */
  tat?: number;
  tokens: number;
  tokensExpireAt: number;
  /** The lease the tokens came from (sizes the next one). */
  lastLease?: LeaseHistory;
}

/** This container's view of one merchant's bucket of one class: its sub-buckets (by index) and the lease in flight. */
interface LocalGroup {
  subs: Map<number, LocalBucket>;
  /** The one lease in flight for the whole group in this container; other requests wait for it. */
  leasing?: Promise<void>;
}

/** One sub-bucket as a request sees it: its store key, its share of the policy and this container's view. */
interface Sub {
  key: RateBucketKey;
  policy: RatePolicy;
  bucket: LocalBucket;
}

/**
 * A failed lease always leaves this container seeing fewer tokens than before (another one took them), so leasing
 * again ends when every sub-bucket is empty; this bound (plus one per sub-bucket) only guards against a store that
 * answers nonsense.
 */
const MAX_LEASES_PER_REQUEST = 8;

/**
 * The per-merchant, per-route-class rate limiter of one container (one per Lambda execution environment). A merchant's
 * bucket of a class is split into {@link subBucketCount} sub-buckets (one, the unsplit bucket, up to 250 tokens/s),
 * each with its share of the rate and burst. This container leases from the sub-bucket it sees fullest, its own
 * (`home`, drawn once per container, so containers spread over them) first among equals: it refuses only when it sees
 * every sub-bucket empty. Tokens are leased in batches sized by how fast this container
 * spent the last one, and spent locally; one lease in flight per bucket, and leased tokens of one sub-bucket at a
 * time. A bucket this container has seen empty refuses locally, at no DynamoDB cost, until a refill. See
 * docs/rate-limits.md for the overshoot bound and the cost per request.
 */
export class RateLimiter {
  private readonly groups = new Map<string, LocalGroup>();

  /**
   * @param onStoreError called when the store fails; the request is then admitted (fail open: API Gateway's stage
   *   throttling stays the outer guard, and the merchant already passed authentication)
   * @param home where in `[0, 1)` this container's own sub-bucket lies (sub-bucket `⌊home × count⌋`); random by default
   */
  constructor(
    private readonly store: RateLimitStore,
    private readonly settings: RateLimitSettings,
    private readonly clock: () => Date,
    private readonly onStoreError: (error: unknown) => void,
    private readonly home: number = Math.random(),
  ) {}

  /** Admits or refuses one authenticated request of a merchant; never throws for a store failure. */
  async admit(
    merchant: { id: string; rateLimits?: RateLimitOverrides },
    routeClass: RouteClass,
  ): Promise<RateDecision> {
    const policy = policyFor(this.settings, merchant.rateLimits, routeClass);
    const group = this.groupOf(merchant.id, routeClass);
    const subs = this.subsOf(group, merchant.id, routeClass, policy);
    for (let leases = 0; ; ) {
      const nowUs = this.nowUs();
      for (const { bucket } of subs) if (nowUs >= bucket.tokensExpireAt) bucket.tokens = 0;
      const holding = subs.find(({ bucket }) => bucket.tokens > 0 && bucket.lastLease);
      if (holding?.bucket.lastLease) {
        holding.bucket.tokens--;
        holding.bucket.lastLease.spent++;
        return this.decision(subs, policy, nowUs, true);
      }
      const next = fullest(subs, nowUs);
      if (!next || leases >= MAX_LEASES_PER_REQUEST + subs.length) {
        return this.decision(subs, policy, nowUs, false);
      }
      if (!group.leasing) {
        leases++;
        group.leasing = this.lease(next, nowUs).finally(() => {
          group.leasing = undefined;
        });
      }
      try {
        await group.leasing;
      } catch (error) {
        this.onStoreError(error);
        return this.decision(subs, policy, this.nowUs(), true);
      }
    }
  }

  /** Takes a batch of tokens from one shared sub-bucket (fewer if it holds fewer) into this container's. */
  private async lease({ key, bucket, policy }: Sub, nowUs: number): Promise<void> {
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

  /**
   * The headers' figures over the whole bucket: its capacity, the tokens this container sees in all sub-buckets, the
   * time the last one is full again, and (refused) the time the first one holds a token again.
   */
  private decision(subs: readonly Sub[], policy: RatePolicy, nowUs: number, admitted: boolean): RateDecision {
    const seen = subs.reduce((n, s) => n + s.bucket.tokens + availableTokens(s.bucket.tat, nowUs, s.policy), 0);
    const retryAfter = Math.min(...subs.map((s) => retryAfterSeconds(s.bucket.tat, nowUs, s.policy)));
    return {
      admitted,
      limit: policy.burst,
      remaining: Math.min(policy.burst, seen),
      resetAt: Math.max(...subs.map((s) => resetEpochSeconds(s.bucket.tat, nowUs))),
      ...(admitted ? {} : { retryAfterSeconds: retryAfter }),
    };
  }

  private groupOf(merchantId: string, routeClass: RouteClass): LocalGroup {
    const name = `${routeClass} ${merchantId}`;
    let group = this.groups.get(name);
    if (!group) {
      group = { subs: new Map() };
      this.groups.set(name, group);
    }
    return group;
  }

  /** The bucket's sub-buckets in this container's order of preference: its own first, then the next ones. */
  private subsOf(group: LocalGroup, merchantId: string, routeClass: RouteClass, policy: RatePolicy): Sub[] {
    const count = subBucketCount(policy);
    const first = Math.min(count - 1, Math.floor(this.home * count));
    return Array.from({ length: count }, (_, i) => {
      const subBucket = (first + i) % count;
      let bucket = group.subs.get(subBucket);
      if (!bucket) {
        bucket = { tokens: 0, tokensExpireAt: 0 };
        group.subs.set(subBucket, bucket);
      }
      return {
        key: { merchantId, routeClass, subBucket },
        policy: subBucketPolicy(policy, count, subBucket),
        bucket,
      };
    });
  }

  private nowUs(): number {
    return this.clock().getTime() * 1000;
  }
}

/**
 * The sub-bucket holding the most tokens in this container's view (the first in lease order among equals, so a fresh
 * container starts on its own), undefined when it sees every one empty. Drawing the fullest keeps the sub-buckets
 * level: none sits full, wasting its refill, while another is drawn down — so the fleet, or a lone container, admits
 * the whole bucket's rate.
 */
function fullest(subs: readonly Sub[], nowUs: number): Sub | undefined {
  let best: Sub | undefined;
  let most = 0;
  for (const sub of subs) {
    const tokens = availableTokens(sub.bucket.tat, nowUs, sub.policy);
    if (tokens > most) {
      best = sub;
      most = tokens;
    }
  }
  return best;
}
