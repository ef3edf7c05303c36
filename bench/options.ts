/** What one benchmark run does; every number can be overridden from the environment. */
export interface BenchOptions {
  /** Measured flows (env `BENCH_PAYMENTS`, default 1000). */
  payments: number;
  /** Concurrent clients, each with its own account (env `BENCH_CONCURRENCY`, default 16). */
  concurrency: number;
  /** Warm-up flows, excluded from every figure (env `BENCH_WARMUP`, default 50). */
  warmup: number;
  /** Measured recharges fully refunded, at most `payments` (env `BENCH_REFUNDS`, default all of them). */
  refunds: number;
  /** Sequential recharge-and-full-refund cycles of the capacity sample (env `BENCH_CAPACITY_CYCLES`, default 50). */
  capacityCycles: number;
  /** Payments of the notification-cost sample (env `BENCH_NOTIFY_SAMPLE`, default 500). */
  notifySample: number;
  /** Assumed arrival rate the notification costs are computed for (env `BENCH_NOTIFY_PER_DAY`, default 10,000). */
  notifyPaymentsPerDay: number;
  /** Every n-th payment's merchant refuses its first notification (env `BENCH_NOTIFY_FAIL_EVERY`, default 50 = 2 %). */
  notifyFailEvery: number;
  /** Lines of the reconciled bill, and local records (env `BENCH_RECON_LINES`, default 1,000,000). */
  reconLines: number;
  /** `notifications` or `reconciliation` runs only that section (env `BENCH_ONLY`); unset runs every section. */
  only?: 'notifications' | 'reconciliation';
}

/** Reads the benchmark options from `env`, rejecting anything that is not a whole number in range. */
export function readOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const payments = positiveInt(env, 'BENCH_PAYMENTS', 1000, 1);
  const refunds = positiveInt(env, 'BENCH_REFUNDS', payments, 1);
  if (refunds > payments) throw new Error(`BENCH_REFUNDS (${refunds}) cannot exceed BENCH_PAYMENTS (${payments})`);
  return {
    payments,
    concurrency: positiveInt(env, 'BENCH_CONCURRENCY', 16, 1),
    warmup: positiveInt(env, 'BENCH_WARMUP', 50, 0),
    refunds,
    capacityCycles: positiveInt(env, 'BENCH_CAPACITY_CYCLES', 50, 1),
    notifySample: positiveInt(env, 'BENCH_NOTIFY_SAMPLE', 500, 1),
    notifyPaymentsPerDay: positiveInt(env, 'BENCH_NOTIFY_PER_DAY', 10_000, 1),
    notifyFailEvery: positiveInt(env, 'BENCH_NOTIFY_FAIL_EVERY', 50, 1),
    reconLines: positiveInt(env, 'BENCH_RECON_LINES', 1_000_000, 1),
    ...onlySection(env),
  };
}

function onlySection(env: NodeJS.ProcessEnv): Pick<BenchOptions, 'only'> {
  const raw = env.BENCH_ONLY;
  if (raw === undefined || raw === '') return {};
  if (raw === 'notifications' || raw === 'reconciliation') return { only: raw };
  throw new Error(`BENCH_ONLY must be "notifications" or "reconciliation" (or unset for every section), got ${raw}`);
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${raw}`);
  return value;
}
