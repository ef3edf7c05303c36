/**
 * The circuit breaker of a payment channel, as pure functions over a {@link BreakerState} value and a clock reading
 * (epoch milliseconds). Storage (one DynamoDB item per channel, shared by every container) lives in the adapters.
 *
 * CLOSED → OPEN after `failureThreshold` consecutive failures, or when at least `minCalls` calls in the sliding
 * window of `windowMs` failed at a rate ≥ `failureRateThreshold`. OPEN → HALF_OPEN once `coolDownMs` has passed, by
 * the one caller that claims the probe ({@link claimProbe}); every other caller treats the channel as unavailable.
 * The probe's success closes the breaker (counters reset); its failure opens it again with a new cool-down. A claimed
 * probe that never reports (its container died) can be claimed again after `probeLeaseMs`.
 */

/** CLOSED: traffic flows. OPEN: none until the cool-down ends. HALF_OPEN: one probe is (or may be) in flight. */
export type BreakerStatus = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

/** Calls that ended in one slice of the sliding window (`start` is the slice's first epoch ms). */
export interface WindowBucket {
  start: number;
  successes: number;
  failures: number;
}

/** A channel's breaker and the recent statistics routing scores it by. */
export interface BreakerState {
  status: BreakerStatus;
  consecutiveFailures: number;
  /** When the breaker last opened; the cool-down runs from here. */
  openedAt?: number;
  /** When the HALF_OPEN probe was claimed; absent while nobody holds it. */
  probeClaimedAt?: number;
  /** The sliding window, oldest first, at most `bucketCount` (+1 while a slice rolls over) entries. */
  buckets: WindowBucket[];
  /** EWMA of successful calls' latency in ms; absent until the first success. */
  latencyMs?: number;
}

/** Thresholds of the breaker: configuration, not code. */
export interface BreakerConfig {
  failureThreshold: number;
  windowMs: number;
  /** The window is kept as this many slices of `windowMs / bucketCount` each. */
  bucketCount: number;
  minCalls: number;
  failureRateThreshold: number;
  coolDownMs: number;
  probeLeaseMs: number;
  /** Weight of the newest sample in the latency EWMA (0–1]. */
  latencyAlpha: number;
}

/** 5 consecutive failures, or ≥ 50 % of ≥ 20 calls in the last 60 s; 30 s cool-down and probe lease. */
export const DEFAULT_BREAKER_CONFIG: Readonly<BreakerConfig> = Object.freeze({
  failureThreshold: 5,
  windowMs: 60_000,
  bucketCount: 12,
  minCalls: 20,
  failureRateThreshold: 0.5,
  coolDownMs: 30_000,
  probeLeaseMs: 30_000,
  latencyAlpha: 0.2,
});

/** A channel nobody has called yet. */
export function initialBreakerState(): BreakerState {
  return { status: 'CLOSED', consecutiveFailures: 0, buckets: [] };
}

/** ALLOW: use it. PROBE: usable only by the caller that wins {@link claimProbe}. DENY: skip it. */
export type Admission = 'ALLOW' | 'PROBE' | 'DENY';

/** What the breaker says about sending a call now. */
export function admission(state: BreakerState, now: number, config: BreakerConfig = DEFAULT_BREAKER_CONFIG): Admission {
  if (state.status === 'CLOSED') return 'ALLOW';
  if (state.status === 'OPEN') return coolDownOver(state, now, config) ? 'PROBE' : 'DENY';
  return probeFree(state, now, config) ? 'PROBE' : 'DENY';
}

/**
 * Claims the single probe: only from OPEN after the cool-down, or HALF_OPEN with no live claim. The state returned
 * when `claimed` is true must be stored conditionally (it is the claim); otherwise the state is returned unchanged.
 */
export function claimProbe(
  state: BreakerState,
  now: number,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): { claimed: boolean; state: BreakerState } {
  if (admission(state, now, config) !== 'PROBE') return { claimed: false, state };
  return { claimed: true, state: { ...state, status: 'HALF_OPEN', probeClaimedAt: now } };
}

/** A call succeeded in `latencyMs`. HALF_OPEN closes (counters reset); OPEN stays open (a late answer). */
export function onSuccess(
  state: BreakerState,
  now: number,
  latencyMs: number,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): BreakerState {
  const sample = Math.max(0, latencyMs);
  const latency =
    state.latencyMs === undefined ? sample : state.latencyMs + config.latencyAlpha * (sample - state.latencyMs);
  if (state.status === 'HALF_OPEN') {
    return {
      status: 'CLOSED',
      consecutiveFailures: 0,
      buckets: record([], now, 'successes', config),
      latencyMs: latency,
    };
  }
  return {
    ...state,
    consecutiveFailures: state.status === 'CLOSED' ? 0 : state.consecutiveFailures,
    buckets: record(state.buckets, now, 'successes', config),
    latencyMs: latency,
  };
}

/** A call failed (network, timeout, 5xx). CLOSED may trip; HALF_OPEN re-opens with a new cool-down. */
export function onFailure(
  state: BreakerState,
  now: number,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): BreakerState {
  const buckets = record(state.buckets, now, 'failures', config);
  const consecutiveFailures = state.consecutiveFailures + 1;
  if (state.status === 'HALF_OPEN') return open({ ...state, buckets, consecutiveFailures }, now);
  if (state.status === 'OPEN') return { ...state, buckets, consecutiveFailures };
  const { calls, failures } = windowTotals({ ...state, buckets }, now, config);
  const tripped =
    consecutiveFailures >= config.failureThreshold ||
    (calls >= config.minCalls && failures / calls >= config.failureRateThreshold);
  return tripped ? open({ ...state, buckets, consecutiveFailures }, now) : { ...state, buckets, consecutiveFailures };
}

/** Calls and failures in the sliding window ending at `now`. */
export function windowTotals(
  state: BreakerState,
  now: number,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
): { calls: number; failures: number } {
  let calls = 0;
  let failures = 0;
  for (const bucket of live(state.buckets, now, config)) {
    calls += bucket.successes + bucket.failures;
    failures += bucket.failures;
  }
  return { calls, failures };
}

/**
 * The recent success rate in the window, with `prior` pseudo-successes: `(successes + prior) / (calls + prior)`, so
 * with a prior a handful of early calls cannot swing it; 1 when there is nothing to go by.
 */
export function successRate(
  state: BreakerState,
  now: number,
  config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
  prior = 0,
): number {
  const { calls, failures } = windowTotals(state, now, config);
  return calls + prior > 0 ? (calls - failures + prior) / (calls + prior) : 1;
}

function open(state: BreakerState, now: number): BreakerState {
  const { probeClaimedAt: _released, ...rest } = state;
  return { ...rest, status: 'OPEN', openedAt: now };
}

function coolDownOver(state: BreakerState, now: number, config: BreakerConfig): boolean {
  return state.openedAt === undefined || now - state.openedAt >= config.coolDownMs;
}

function probeFree(state: BreakerState, now: number, config: BreakerConfig): boolean {
  return state.probeClaimedAt === undefined || now - state.probeClaimedAt >= config.probeLeaseMs;
}

function bucketMs(config: BreakerConfig): number {
  return Math.max(1, Math.floor(config.windowMs / Math.max(1, config.bucketCount)));
}

/** Buckets still (partly) inside the window; a bucket from a clock running ahead is kept, not counted twice. */
function live(buckets: readonly WindowBucket[], now: number, config: BreakerConfig): WindowBucket[] {
  return buckets.filter((bucket) => bucket.start + bucketMs(config) > now - config.windowMs);
}

function record(
  buckets: readonly WindowBucket[],
  now: number,
  field: 'successes' | 'failures',
  config: BreakerConfig,
): WindowBucket[] {
  const start = now - (now % bucketMs(config));
  const kept = live(buckets, now, config);
  const index = kept.findIndex((bucket) => bucket.start === start);
  if (index >= 0) {
    const bucket = kept[index] as WindowBucket;
    kept[index] = { ...bucket, [field]: bucket[field] + 1 };
    return kept;
  }
  const added = [...kept, { start, successes: 0, failures: 0, [field]: 1 }].sort((a, b) => a.start - b.start);
  return added.slice(-(config.bucketCount + 1));
}
