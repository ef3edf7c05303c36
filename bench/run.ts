/**
 * `npm run bench`: sections 1–9 on the local stack and emulators, then one `BENCH_RESULT {…}` JSON line. Options
 * (environment): BENCH_PAYMENTS (1000), BENCH_CONCURRENCY (16), BENCH_WARMUP (50), BENCH_REFUNDS (all the payments),
 * BENCH_CAPACITY_CYCLES (50), BENCH_NOTIFY_SAMPLE (500), BENCH_NOTIFY_PER_DAY (10000), BENCH_NOTIFY_FAIL_EVERY (50),
 * BENCH_RECON_LINES (1000000), BENCH_ONLY (`notifications`, `reconciliation` or `failover`: that section alone), BENCH_LOG_LEVEL
 * (SILENT; e.g. ERROR shows the handlers' logs). Exits non-zero on any failure, including a balance that is not
 * exactly what the flows paid and refunded, or a notification not DELIVERED exactly as its merchant allowed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

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
  const sections = ['notifications', 'reconciliation', 'failover'] as const;
  if (only !== undefined && !(sections as readonly string[]).includes(only))
    throw new Error(`BENCH_ONLY must be one of ${sections.join(', ')} (or unset for every section), got ${only}`);
  return {
    payments,
    concurrency: int('BENCH_CONCURRENCY', 16),
    warmup: int('BENCH_WARMUP', 50, 0),
    refunds,
    capacityCycles: int('BENCH_CAPACITY_CYCLES', 50),
    notifySample: int('BENCH_NOTIFY_SAMPLE', 500),
    notifyPaymentsPerDay: int('BENCH_NOTIFY_PER_DAY', 10_000),
    notifyFailEvery: int('BENCH_NOTIFY_FAIL_EVERY', 50),
    reconLines: int('BENCH_RECON_LINES', 1_000_000),
    ...(only ? { only: only as (typeof sections)[number] } : {}),
  };
}

/** The deployed size of one function's bundle (BENCH_RESULT `bundles[]`). */
export type BundleSize = { id: string; entry: string; bytes: number; kib: number } & {
  gzip_bytes: number;
  gzip_kib: number;
};

/**
 * Section 5: bundles every function with esbuild as the CDK stack's `NodejsFunction` does (minified ESM, node22, the
 * `require` banner, AWS SDK bundled), in memory, and measures the `index.mjs` it would deploy.
 */
async function measureBundles(projectRoot: string): Promise<BundleSize[]> {
  const { build } = await import('esbuild');
  const { FUNCTIONS } = await import('#routes');
  const banner =
    "import { createRequire as __gatewayCreateRequire } from 'node:module';" +
    'const require = __gatewayCreateRequire(import.meta.url);';
  return Promise.all(
    FUNCTIONS.map(async ({ id, entry }) => {
      const outfile = resolve(projectRoot, 'cdk.out', 'bench-bundles', id, 'index.mjs');
      const result = await build({
        ...{ absWorkingDir: projectRoot, entryPoints: [resolve(projectRoot, entry)], outfile, banner: { js: banner } },
        ...{ bundle: true, minify: true, platform: 'node', target: 'node22', format: 'esm', sourcemap: true },
        ...{ mainFields: ['module', 'main'], sourcesContent: false, write: false, metafile: true, logLevel: 'silent' },
      });
      const bytes = result.metafile.outputs[relative(projectRoot, outfile)]?.bytes;
      const code = result.outputFiles.find((file) => file.path === outfile)?.contents;
      if (bytes === undefined || !code) throw new Error(`esbuild produced no ${outfile} for ${id}`);
      const gzip = gzipSync(code).length;
      return { id, entry, bytes, kib: bytes / 1024, gzip_bytes: gzip, gzip_kib: gzip / 1024 };
    }),
  );
}

/**
 * Sections 1–4 on a local stack started in this process (free port, throw-away secrets), stopped however they end.
 * The handlers share this process's gateway container, so instrumenting its DynamoDB client sees their calls.
 */
async function measureOnLocalStack(projectRoot: string, options: BenchOptions) {
  const { createContainer, getContainer } = await import('#adapters/container.ts');
  const { createMerchant } = await import('#app/merchant-admin.ts');
  const { MerchantClient } = await import('../local/merchant-client.ts');
  const { loadLocalSecrets, startLocalStack } = await import('../local/stack.ts');
  const flows = await import('./flows.ts');
  const { measureCapacity, measureWrites, recordDynamoCalls } = await import('./capacity.ts');
  const report = await import('./report.ts');
  const secretsDir = mkdtempSync(join(tmpdir(), 'pay-gateway-bench-'));
  let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
  try {
    const secrets = loadLocalSecrets(secretsDir);
    stack = await startLocalStack({ projectRoot, port: 0, secrets });
    const seeding = createContainer();
    const { secret } = await createMerchant(seeding, { id: 'mch_bench', name: 'Benchmark merchant' }).finally(() =>
      seeding.db.destroy(),
    );
    const merchant = new MerchantClient({ apiBase: stack.apiBase, merchantId: 'mch_bench', merchantSecret: secret });
    const target = { apiBase: stack.apiBase, merchant, sandboxSecret: secrets.sandboxSecret };
    const recorder = recordDynamoCalls(getContainer().db);
    const { concurrency } = options;
    const warmup = options.warmup
      ? await flows.runFlows(target, { run: 'warmup', count: options.warmup, concurrency })
      : undefined;
    if (warmup) await flows.verifyRecharges(target, warmup);
    recorder.record(true);
    const measured = await flows.runFlows(target, { run: 'measured', count: options.payments, concurrency });
    recorder.record(false);
    const flow = await flows.rechargeFigures(target, measured, options);
    report.printFlowSection(flow);
    const dynamo = await measureWrites(recorder, measured, concurrency);
    report.printWriteSection(dynamo, measured.elapsedMs, measured.flows);
    const refund = await flows.measureRefunds(target, options, { warmup, measured });
    report.printRefundSection(refund);
    const capacity = await measureCapacity(target, options.capacityCycles);
    report.printCapacitySection(capacity);
    return { flow, dynamo, refund, capacity };
  } finally {
    if (stack) getContainer().db.destroy();
    await stack?.stop();
    rmSync(secretsDir, { recursive: true, force: true });
  }
}

/** Every section in order, or the one BENCH_ONLY names; returns BENCH_RESULT's section keys. */
async function runBenchmark(projectRoot: string, options: BenchOptions): Promise<Record<string, unknown>> {
  const { measureNotifications } = await import('./notifications.ts');
  const { measureReconciliation } = await import('./reconciliation.ts');
  const machine = `Node ${process.version}, ${availableParallelism()} CPUs`;
  if (options.only === 'notifications') {
    console.log(`pay-gateway benchmark, notifications only: ${options.notifySample} payments, ${machine}`);
    return { notifications: await measureNotifications(projectRoot, options) };
  }
  if (options.only === 'failover') {
    console.log(`pay-gateway benchmark, failover only, ${machine}`);
    return { failover: await (await import('./failover.ts')).measureFailover() };
  }
  if (options.only === 'reconciliation') {
    console.log(`pay-gateway benchmark, reconciliation only: ${options.reconLines} lines, ${machine}`);
    return { reconciliation: await measureReconciliation(projectRoot, options) };
  }
  console.log(
    `pay-gateway benchmark: ${options.payments} flows (+${options.warmup} warm-up), ${options.concurrency} clients, ` +
      `then ${options.refunds} refunds and ${options.capacityCycles} metered cycles, then ${options.notifySample} ` +
      `payments' notifications and timers, ${machine}`,
  );
  const stack = await measureOnLocalStack(projectRoot, options);
  const bundles = await measureBundles(projectRoot);
  (await import('./report.ts')).printBundleSection(bundles);
  const notifications = await measureNotifications(projectRoot, options);
  const channels = await (await import('./channels.ts')).measureChannels();
  const reconciliation = await measureReconciliation(projectRoot, options);
  const failover = await (await import('./failover.ts')).measureFailover();
  const bundles_total_bytes = bundles.reduce((sum, bundle) => sum + bundle.bytes, 0);
  return { ...stack, bundles, bundles_total_bytes, notifications, channels, failover, reconciliation };
}

// Set before the gateway's modules load: Powertools reads its configuration when they are first imported.
Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'SILENT',
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
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
