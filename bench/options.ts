/** What one benchmark run does; every number can be overridden from the environment. */
export interface BenchOptions {
  /** Measured flows (env `BENCH_PAYMENTS`, default 2000). */
  payments: number;
  /** Concurrent clients, each with its own account (env `BENCH_CONCURRENCY`, default 16). */
  concurrency: number;
  /** Warm-up flows, excluded from every figure (env `BENCH_WARMUP`, default 50). */
  warmup: number;
  /** Measured recharges fully refunded, at most `payments` (env `BENCH_REFUNDS`, default all of them). */
  refunds: number;
  /** Sequential recharge-and-full-refund cycles of the capacity sample (env `BENCH_CAPACITY_CYCLES`, default 50). */
  capacityCycles: number;
}

/** Reads the benchmark options from `env`, rejecting anything that is not a whole number in range. */
export function readOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const payments = positiveInt(env, 'BENCH_PAYMENTS', 2000, 1);
  const refunds = positiveInt(env, 'BENCH_REFUNDS', payments, 1);
  if (refunds > payments) throw new Error(`BENCH_REFUNDS (${refunds}) cannot exceed BENCH_PAYMENTS (${payments})`);
  return {
    payments,
    concurrency: positiveInt(env, 'BENCH_CONCURRENCY', 16, 1),
    warmup: positiveInt(env, 'BENCH_WARMUP', 50, 0),
    refunds,
    capacityCycles: positiveInt(env, 'BENCH_CAPACITY_CYCLES', 50, 1),
  };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${raw}`);
  return value;
}
