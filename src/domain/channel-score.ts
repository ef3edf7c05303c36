/**
 * How the router orders the channels that may take a payment (pure; the random source is an input).
 *
 *   successRate(c) = (successes + priorCalls) / (calls + priorCalls)   over the breaker's sliding window
 *   health(c)      = successRate(c)^successExponent × referenceLatencyMs / (referenceLatencyMs + latencyMs(c))
 *   score(c)       = weight(c) × health(c)
 *
 * The order is a weighted random draw without replacement with probability ∝ score: among healthy channels traffic
 * is shared by weight (the profile's meaning of `weight`), and a degrading channel loses its share smoothly (with the
 * defaults, a channel failing 10 % keeps ~43 % of its share, failing 30 % ~6 %) until its breaker opens. The draw
 * walks the candidates best score first (ties by code), so `random() = 0` always yields the highest score first and
 * the order is a pure function of the inputs and the random draws. Channels scoring 0 come last, by code.
 */

/** What the scoring needs of one candidate. */
export interface ScoreInput {
  code: string;
  /** Relative share of traffic; ≤ 0 means "only when nothing else is left". */
  weight: number;
  /** Recent success rate, 0–1. */
  successRate: number;
  /** EWMA latency of successful calls in ms; absent = unknown (no penalty). */
  latencyMs?: number;
}

/** Tunables of the scoring formula. */
export interface ScoreConfig {
  /** The latency at which the latency factor is one half. */
  referenceLatencyMs: number;
  /** Larger values punish failures harder. */
  successExponent: number;
  /** Pseudo-successes added to the window, so a handful of calls cannot swing the rate (see `successRate`). */
  priorCalls: number;
}

/** 500 ms reference latency, success rate to the 8th power, a prior of 20 successful calls. */
export const DEFAULT_SCORE_CONFIG: Readonly<ScoreConfig> = Object.freeze({
  referenceLatencyMs: 500,
  successExponent: 8,
  priorCalls: 20,
});

/** The health factor of a candidate (0–1]. */
export function health(input: ScoreInput, config: ScoreConfig = DEFAULT_SCORE_CONFIG): number {
  const rate = Math.min(1, Math.max(0, input.successRate));
  const latency = Math.max(0, input.latencyMs ?? 0);
  return rate ** config.successExponent * (config.referenceLatencyMs / (config.referenceLatencyMs + latency));
}

/** `weight × health`. */
export function score(input: ScoreInput, config: ScoreConfig = DEFAULT_SCORE_CONFIG): number {
  return Math.max(0, input.weight) * health(input, config);
}

/** Orders candidates by a weighted random draw ∝ score (see the module comment); `random` is in [0, 1). */
export function rankCandidates<T extends ScoreInput>(
  candidates: readonly T[],
  random: () => number = Math.random,
  config: ScoreConfig = DEFAULT_SCORE_CONFIG,
): T[] {
  const scored = candidates
    .map((candidate) => ({ candidate, code: candidate.code, weight: score(candidate, config) }))
    .sort((a, b) => b.weight - a.weight || compareCodes(a.code, b.code));
  return weightedOrder(scored, random).map((entry) => entry.candidate);
}

/**
 * Weighted random sampling without replacement, walking `items` in their given order; items of weight ≤ 0 keep
 * their order at the end.
 */
export function weightedOrder<T extends { weight: number }>(items: readonly T[], random: () => number): T[] {
  const pool = items.filter((item) => item.weight > 0);
  const order: T[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, item) => sum + item.weight, 0);
    const draw = Math.min(Math.max(random(), 0), 1 - Number.EPSILON) * total;
    let index = 0;
    for (let acc = pool[0]?.weight ?? 0; acc <= draw && index < pool.length - 1; acc += pool[index]?.weight ?? 0) {
      index++;
    }
    order.push(...pool.splice(index, 1));
  }
  return [...order, ...items.filter((item) => item.weight <= 0)];
}

function compareCodes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
