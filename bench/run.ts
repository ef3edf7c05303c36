/**
 * `npm run bench`: sections 1–14 on the local stack and emulators, then one `BENCH_RESULT {…}` JSON line. Options
 * (environment): BENCH_PAYMENTS (1000), BENCH_CONCURRENCY (16), BENCH_WARMUP (500), BENCH_ROUNDS (4: section 2's
 * interleaved flow and raw rounds), BENCH_REFUNDS (all the payments),
 * BENCH_CAPACITY_CYCLES (50), BENCH_NOTIFY_SAMPLE (500), BENCH_NOTIFY_PER_DAY (10000), BENCH_NOTIFY_FAIL_EVERY (50),
 * BENCH_RECON_LINES (1000000), BENCH_RECON_DYNAMO_LINES (100000), BENCH_IMPORT_RUNS (5), BENCH_HEAT_FLOWS (100),
 * BENCH_HEAT_LOAD (100000), BENCH_ONLY (`flows`: sections 1–4; `reconciliation`: sections 8 and 12, side by side;
 * `reconciliation-dynamo`: section 12; `heat`, `notifications`, `failover`, `bundles`, `hot-accounts` (section 13) or
 * `risk` (section 14): that section alone), BENCH_LOG_LEVEL
 * (SILENT; e.g. ERROR shows the handlers' logs). Exits non-zero on any failure, including a balance that is not
 * exactly what the flows paid and refunded, or a notification not DELIVERED exactly as its merchant allowed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { WriteRound } from './capacity.ts';
import type { FlowRun, FlowTarget } from './flows.ts';

/** What one run does; every number can be overridden from the environment (see the module comment). */
export type BenchOptions = ReturnType<typeof readOptions>;

function readOptions(env: NodeJS.ProcessEnv = process.env) {
  const int = (name: string, fallback: number, min = 1) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min)
      throw new Error(`${name} must be an integer >= ${min}, got ${raw}`);
    return value;
  };
  const payments = int('BENCH_PAYMENTS', 1000);
  const refunds = int('BENCH_REFUNDS', payments);
  if (refunds > payments) throw new Error(`BENCH_REFUNDS (${refunds}) cannot exceed BENCH_PAYMENTS (${payments})`);
  const only = env.BENCH_ONLY || undefined;
  const sections = [
    'flows',
    'heat',
    'notifications',
    'reconciliation',
    'reconciliation-dynamo',
    'failover',
    'bundles',
    'hot-accounts',
    'risk',
  ] as const;
  if (only !== undefined && !(sections as readonly string[]).includes(only))
    throw new Error(`BENCH_ONLY must be one of ${sections.join(', ')} (or unset for every section), got ${only}`);
  return {
    payments,
    concurrency: int('BENCH_CONCURRENCY', 16),
    warmup: int('BENCH_WARMUP', 500, 0),
    rounds: int('BENCH_ROUNDS', 4),
    refunds,
    capacityCycles: int('BENCH_CAPACITY_CYCLES', 50),
    notifySample: int('BENCH_NOTIFY_SAMPLE', 500),
    notifyPaymentsPerDay: int('BENCH_NOTIFY_PER_DAY', 10_000),
    notifyFailEvery: int('BENCH_NOTIFY_FAIL_EVERY', 50),
    reconLines: int('BENCH_RECON_LINES', 1_000_000),
    reconDynamoLines: int('BENCH_RECON_DYNAMO_LINES', 100_000),
    importRuns: int('BENCH_IMPORT_RUNS', 5),
    heatFlows: int('BENCH_HEAT_FLOWS', 100),
    heatLoad: int('BENCH_HEAT_LOAD', 100_000),
    ...(only ? { only: only as (typeof sections)[number] } : {}),
  };
}

/** `total` split into `parts` counts as even as can be (none empty). */
const splitEvenly = (total: number, parts: number) =>
  Array.from(
    { length: parts },
    (_, i) => Math.floor((total * (i + 1)) / parts) - Math.floor((total * i) / parts),
  ).filter((count) => count > 0);

/** Section 5 (`bench/bundles.ts`), printed. */
async function measureFunctionBundles(projectRoot: string, options: BenchOptions) {
  const bundles = await (await import('./bundles.ts')).measureBundles(projectRoot, options.importRuns);
  (await import('./report.ts')).printBundleSection(bundles);
  return bundles;
}

/**
 * Sections 1–4 on a local stack started in this process (free port, throw-away secrets), stopped however they end.
 * The handlers share this process's gateway container, so instrumenting its DynamoDB client sees their calls.
 */
async function measureOnLocalStack(projectRoot: string, options: BenchOptions) {
  const { createContainer, getContainer } = await import('#adapters/container.ts');
  const { createMerchant, setMerchantRateLimit } = await import('#app/merchant-admin.ts');
  const { MerchantClient } = await import('../local/merchant-client.ts');
  const { loadLocalSecrets, startLocalStack } = await import('../local/stack.ts');
  const flows = await import('./flows.ts');
  const { measureCapacity, recordDynamoCalls, replayRaw, writeFigures } = await import('./capacity.ts');
  const report = await import('./report.ts');
  const secretsDir = mkdtempSync(join(tmpdir(), 'pay-gateway-bench-'));
  let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
  try {
    const secrets = loadLocalSecrets(secretsDir);
    stack = await startLocalStack({ projectRoot, port: 0, secrets });
    const seeding = createContainer();
    const { secret } = await createMerchant(seeding, { id: 'mch_bench', name: 'Benchmark merchant' });
    // The flows measure the gateway, not the rate limiter (section 9 does): lift the bench merchant's buckets.
    for (const routeClass of ['write', 'read'] as const) {
      await setMerchantRateLimit(seeding, 'mch_bench', { routeClass, policy: { rate: 100_000, burst: 100_000 } });
    }
    seeding.db.destroy();
    const merchant = new MerchantClient({ apiBase: stack.apiBase, merchantId: 'mch_bench', merchantSecret: secret });
    const target = { apiBase: stack.apiBase, merchant, sandboxSecret: secrets.sandboxSecret };
    if (options.only === 'heat') return { heat: await measureHeat(target, options) };
    const recorder = recordDynamoCalls(getContainer().db);
    const { concurrency } = options;
    const warmup = options.warmup
      ? await flows.runFlows(target, { run: 'warmup', count: options.warmup, concurrency })
      : undefined;
    if (warmup) await flows.verifyRecharges(target, warmup);
    // The measured flows in rounds, each followed by its own writes replayed raw (section 2 compares the two).
    recorder.start();
    let measured: FlowRun | undefined;
    const rounds: WriteRound[] = [];
    for (const count of splitEvenly(options.payments, options.rounds)) {
      const recorded = recorder.writes.length;
      const spent = measured?.elapsedMs ?? 0;
      recorder.resume();
      measured = await flows.runFlows(target, { run: 'measured', count, concurrency }, measured);
      recorder.stop();
      const raw = await replayRaw(recorder.writes.slice(recorded), concurrency, recorded);
      rounds.push({ flowMs: measured.elapsedMs - spent, raw });
    }
    if (!measured) throw new Error('no measured flows');
    const flow = await flows.rechargeFigures(target, measured, options);
    report.printFlowSection(flow);
    const dynamo = writeFigures(recorder, measured, rounds);
    report.printWriteSection(dynamo, measured.elapsedMs, measured.flows);
    const refund = await flows.measureRefunds(target, options, { warmup, measured });
    report.printRefundSection(refund);
    const capacity = await measureCapacity(target, options.capacityCycles);
    report.printCapacitySection(capacity);
    if (options.only === 'flows') return { flow, dynamo, refund, capacity };
    // Sections 10 and 11, on this stack; printed last.
    const rate_limits = await (await import('./rate-limits.ts')).measureRateLimits();
    const heat = await measureHeat(target, options);
    return { flow, dynamo, refund, capacity, rate_limits, heat };
  } finally {
    if (stack) getContainer().db.destroy();
    await stack?.stop();
    rmSync(secretsDir, { recursive: true, force: true });
  }
}

/** Section 11 (`bench/heat.ts`): sample flows with every key access recorded, projected to `options.heatLoad`. */
async function measureHeat(target: FlowTarget, options: BenchOptions) {
  return (await import('./heat.ts')).measureKeyHeat(target, { flows: options.heatFlows, load: options.heatLoad });
}

/** Every section in order, or the one BENCH_ONLY names; returns BENCH_RESULT's section keys. */
async function runBenchmark(projectRoot: string, options: BenchOptions): Promise<Record<string, unknown>> {
  const { measureNotifications } = await import('./notifications.ts');
  const { measureReconciliation } = await import('./reconciliation.ts');
  const { measureReconciliationOnDynamo } = await import('./reconciliation-dynamo.ts');
  const machine = `Node ${process.version}, ${availableParallelism()} CPUs`;
  if (options.only === 'bundles') {
    console.log(`pay-gateway benchmark, bundles only: ${options.importRuns} import rounds, ${machine}`);
    return { bundles: await measureFunctionBundles(projectRoot, options) };
  }
  if (options.only === 'notifications') {
    console.log(`pay-gateway benchmark, notifications only: ${options.notifySample} payments, ${machine}`);
    return { notifications: await measureNotifications(projectRoot, options) };
  }
  if (options.only === 'failover') {
    console.log(`pay-gateway benchmark, failover only, ${machine}`);
    return { failover: await (await import('./failover.ts')).measureFailover() };
  }
  if (options.only === 'hot-accounts') {
    console.log(`pay-gateway benchmark, hot accounts only, ${machine}`);
    return { hot_accounts: await (await import('./hot-accounts.ts')).measureHotAccounts() };
  }
  if (options.only === 'risk') {
    console.log(`pay-gateway benchmark, risk engine only, ${machine}`);
    return { risk: await (await import('./risk.ts')).measureRisk() };
  }
  if (options.only === 'reconciliation') {
    console.log(
      `pay-gateway benchmark, reconciliation only: ${options.reconLines} lines in memory, ` +
        `${options.reconDynamoLines} on DynamoDB Local, ${machine}`,
    );
    const reconciliation = await measureReconciliation(projectRoot, options);
    return { reconciliation, reconciliation_dynamo: await measureReconciliationOnDynamo(options, reconciliation) };
  }
  if (options.only === 'reconciliation-dynamo') {
    console.log(
      `pay-gateway benchmark, reconciliation on DynamoDB Local only: ${options.reconDynamoLines} lines, ${machine}`,
    );
    return { reconciliation_dynamo: await measureReconciliationOnDynamo(options) };
  }
  if (options.only === 'flows' || options.only === 'heat') {
    console.log(`pay-gateway benchmark, ${options.only} only: ${machine}`);
    const { heat, ...sections } = await measureOnLocalStack(projectRoot, options);
    if (heat) (await import('./heat.ts')).printHeatSection(heat);
    return { ...sections, ...(heat ? { heat } : {}) };
  }
  console.log(
    `pay-gateway benchmark: ${options.payments} flows (+${options.warmup} warm-up), ${options.concurrency} clients, ` +
      `then ${options.refunds} refunds and ${options.capacityCycles} metered cycles, then ${options.notifySample} ` +
      `payments' notifications and timers, ${machine}`,
  );
  const { heat, ...stack } = await measureOnLocalStack(projectRoot, options);
  const bundles = await measureFunctionBundles(projectRoot, options);
  const notifications = await measureNotifications(projectRoot, options);
  const channels = await (await import('./channels.ts')).measureChannels();
  const reconciliation = await measureReconciliation(projectRoot, options);
  const reconciliation_dynamo = await measureReconciliationOnDynamo(options, reconciliation);
  const failover = await (await import('./failover.ts')).measureFailover();
  if (stack.rate_limits) (await import('./rate-limits.ts')).printRateLimitSection(stack.rate_limits);
  if (heat) (await import('./heat.ts')).printHeatSection(heat);
  const hot_accounts = await (await import('./hot-accounts.ts')).measureHotAccounts();
  const risk = await (await import('./risk.ts')).measureRisk();
  return {
    ...stack,
    heat,
    bundles,
    notifications,
    channels,
    failover,
    reconciliation,
    reconciliation_dynamo,
    hot_accounts,
    risk,
  };
}

// Set before the gateway's modules load: Powertools reads its configuration when they are first imported.
Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'SILENT',
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  // As in a deployed function (the local default is 0: tests change merchants and expect the next request to see it).
  MERCHANT_CACHE_TTL_MS: process.env.MERCHANT_CACHE_TTL_MS || '1000',
  RISK_CACHE_TTL_MS: process.env.RISK_CACHE_TTL_MS || '5000',
});

try {
  const options = readOptions();
  const sections = await runBenchmark(resolve(import.meta.dirname, '..'), options);
  const result = { node: process.version, cpus: availableParallelism(), options, ...sections };
  // Times in ms, rates per second, sizes in bytes; fractions kept to 6 significant digits.
  const rounded = (_key: string, value: unknown) =>
    typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value;
  console.log(`\nBENCH_RESULT ${JSON.stringify(result, rounded)}`);
  process.exitCode = 0;
} catch (error) {
  console.error('\nBENCH FAILED:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
}
// Nothing should be left running; if something is, do not hang the caller.
setTimeout(() => process.exit(), 5000).unref();
