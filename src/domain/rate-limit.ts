/**
 * Per-merchant token buckets, kept in their "theoretical arrival time" form (GCRA): a bucket's whole state is one
 * time, `tat` (microseconds since the epoch), the moment at which it would be full again. Taking `n` tokens at `now`
 * moves it to `max(tat, now) + n × interval`, allowed while that stays within `now + burst × interval`. This is
 * exactly a token bucket of capacity `burst` refilled at `rate` per second, but its update is an ADD that needs no
 * read first, so a DynamoDB conditional update can take tokens for the whole fleet at once (see docs/rate-limits.md).
 * Pure: every function takes the time it decides at.
 */

/** Writes (every method but GET/HEAD) and reads have separate buckets. */
export type RouteClass = 'write' | 'read';

export const ROUTE_CLASSES: readonly RouteClass[] = ['write', 'read'];

/** A bucket's configuration: refilled at `rate` tokens per second, holding at most `burst`. */
export interface RatePolicy {
  rate: number;
  burst: number;
}

/** A merchant's own policies, where they differ from the defaults. */
export type RateLimitOverrides = Partial<Record<RouteClass, RatePolicy>>;

/** The gateway-wide settings (`GatewayConfig.rateLimits`): default policies and the most tokens leased per update. */
export interface RateLimitSettings {
  write: RatePolicy;
  read: RatePolicy;
  leaseSize: number;
}

/** Bounds an operator may set (per second / tokens): a rate of 0.01/s is 36 an hour. */
export const RATE_BOUNDS = { minRate: 0.01, maxRate: 100_000, maxBurst: 100_000 } as const;

/** A container holds at most a tenth of a bucket, so a few containers cannot take all of a small bucket between them. */
const LEASE_SHARE_OF_BURST = 10;

/** Leased tokens not spent within this time are dropped (never handed back): bounded waste, no stale hoards. */
export const LEASE_TTL_US = 1_000_000;

const MICROS_PER_SECOND = 1_000_000;

/** The bucket of a request: reads are GET and HEAD, everything else writes. */
export function routeClassOf(method: string): RouteClass {
  const upper = method.toUpperCase();
  return upper === 'GET' || upper === 'HEAD' ? 'read' : 'write';
}

/** The policy a merchant's requests of this class are held to: its override, else the default. */
export function policyFor(settings: RateLimitSettings, overrides: RateLimitOverrides | undefined, cls: RouteClass) {
  return overrides?.[cls] ?? settings[cls];
}

/**
 * The most tokens per second one sub-bucket refills: a take is one `UpdateItem` (1 WCU) and a quiet container takes
 * one token per update, plus at most one failed guess, so a sub-bucket costs at most ~2 × 250 = 500 WCU/s — half of
 * a partition key's 1,000 (docs/rate-limits.md, "Sub-buckets").
 */
export const SUB_BUCKET_MAX_RATE = 250;

/**
 * How many sub-buckets a merchant's bucket of this class is split into: `⌈rate / SUB_BUCKET_MAX_RATE⌉`, at most one
 * per token of the burst (each holds at least one). 1 — the unsplit bucket — for every rate up to 250/s (the defaults).
 */
export function subBucketCount(policy: RatePolicy): number {
  return Math.max(1, Math.min(Math.ceil(policy.rate / SUB_BUCKET_MAX_RATE), Math.floor(policy.burst)));
}

/**
 * Sub-bucket `index`'s own policy out of `count`: the rate divided evenly, the burst split into whole tokens that sum
 * to the bucket's (the first `burst mod count` hold one more).
 */
export function subBucketPolicy(policy: RatePolicy, count: number, index: number): RatePolicy {
  if (count === 1) return policy;
  const base = Math.floor(policy.burst / count);
  return { rate: policy.rate / count, burst: base + (index < policy.burst - base * count ? 1 : 0) };
}

/** Microseconds per token, rounded up so a bucket never refills faster than its rate. */
export function tokenInterval(policy: RatePolicy): number {
  return Math.ceil(MICROS_PER_SECOND / policy.rate);
}

/** Whole tokens in the bucket at `nowUs` (`tat` undefined: never used, so full). */
export function availableTokens(tat: number | undefined, nowUs: number, policy: RatePolicy): number {
  const debt = Math.max(0, (tat ?? 0) - nowUs);
  return Math.max(0, policy.burst - Math.ceil(debt / tokenInterval(policy)));
}

/**
 * Taking `count` tokens at `nowUs` as a conditional update of the stored `tat`, in its two cases:
 * - idle (`tat <= nowUs`, or no state yet): set `tat = idleTat`;
 * - busy (`nowUs < tat <= busyMaxTat`): add `cost` to `tat`.
 * Any other `tat` means the bucket holds fewer than `count` tokens. `count` must not exceed the burst.
 */
export function leaseUpdate(nowUs: number, count: number, policy: RatePolicy) {
  const interval = tokenInterval(policy);
  return {
    idleTat: nowUs + count * interval,
    busyMaxTat: nowUs + (policy.burst - count) * interval,
    cost: count * interval,
  };
}

/**
 * The most tokens one container leases per update: the configured lease size, at most a tenth of the burst, at
 * least one. The fleet's overshoot is bounded by it (see {@link maxOvershoot}).
 */
export function leaseCap(policy: RatePolicy, leaseSize: number): number {
  return Math.max(1, Math.min(leaseSize, Math.floor(policy.burst / LEASE_SHARE_OF_BURST)));
}

/** What a container did with its last lease of a bucket: tokens taken, tokens spent, when (microseconds). */
export interface LeaseHistory {
  count: number;
  spent: number;
  atUs: number;
}

/**
 * How many tokens to lease now, from how the last lease went (capped by {@link leaseCap}): none yet, one; used up
 * within its lifetime, twice as many (demand outruns it); used up more slowly, as many; partly dropped unspent, as
 * many as were spent. So a quiet container leases one token at a time and wastes nothing, and a busy one reaches the
 * cap in a few leases whatever the store's latency.
 */
export function leaseCount(cap: number, last: LeaseHistory | undefined, nowUs: number): number {
  if (!last) return 1;
  if (last.spent < last.count) return Math.max(1, Math.min(cap, last.spent));
  return Math.min(cap, nowUs - last.atUs < LEASE_TTL_US ? 2 * last.count : last.count);
}

/**
 * The bound on admissions beyond the bucket in any window: a token is debited from the shared bucket when leased and
 * may be spent later, and each of `containers` holds at most `leaseCap − 1` debited, unspent tokens. So in any window
 * of `w` seconds the fleet admits at most `burst + rate × w + maxOvershoot`.
 */
export function maxOvershoot(containers: number, cap: number): number {
  return containers * (cap - 1);
}

/** Whole seconds until the bucket holds one token again (at least 1): a 429's `Retry-After`. */
export function retryAfterSeconds(tat: number | undefined, nowUs: number, policy: RatePolicy): number {
  const wait = (tat ?? 0) - nowUs - (policy.burst - 1) * tokenInterval(policy);
  return Math.max(1, Math.ceil(wait / MICROS_PER_SECOND));
}

/** Epoch seconds at which the bucket is full again: `X-RateLimit-Reset`. */
export function resetEpochSeconds(tat: number | undefined, nowUs: number): number {
  return Math.ceil(Math.max(tat ?? 0, nowUs) / MICROS_PER_SECOND);
}
