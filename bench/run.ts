/**
 * `npm run bench`: full recharge flows on the local stack, the raw DynamoDB Local write ceiling for the same writes,
 * the full refund of those recharges, the DynamoDB capacity of a recharge-and-full-refund cycle, and the Lambda bundle
 * sizes — human-readable sections, then one `BENCH_RESULT {…}` JSON line. Options come from the environment:
 * BENCH_PAYMENTS (1000), BENCH_CONCURRENCY (16), BENCH_WARMUP (50), BENCH_REFUNDS (all the payments),
 * BENCH_CAPACITY_CYCLES (50), BENCH_NOTIFY_SAMPLE (500), BENCH_NOTIFY_PER_DAY (10000), BENCH_NOTIFY_FAIL_EVERY (50),
 * BENCH_RECON_LINES (1000000), BENCH_ONLY (`notifications` or `reconciliation`: that section alone), and BENCH_LOG_LEVEL (SILENT; e.g. ERROR shows the handlers' logs
 * when a flow fails). Section 6 prices notifications and expiry timers (Step Functions, SQS, Lambda) against the
 * naive one-execution-per-order-and-notification design; section 7 measures callback verification throughput per
 * channel and routing decision latency with the breaker state read from DynamoDB Local, with and without a cache;
 * section 8 reconciles a generated 1,000,000-line bill with the real use case (local records in memory) and compares
 * it with merely parsing the same file.
 * Exits non-zero on any failure, including a balance that is not exactly what the flows paid and refunded, or a
 * notification that did not end DELIVERED exactly as the sample's merchant allowed.
 */
import { resolve } from 'node:path';

// Set before the gateway's modules load: Powertools reads its configuration when they are first imported.
Object.assign(process.env, {
  POWERTOOLS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'SILENT',
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_METRICS_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

const projectRoot = resolve(import.meta.dirname, '..');

try {
  const { readOptions } = await import('./options.ts');
  const { runBenchmark, runNotificationSection, runReconciliationSection } = await import('./suite.ts');
  const { resultJson } = await import('./result-json.ts');
  const options = readOptions();
  const result =
    options.only === 'notifications'
      ? await runNotificationSection(projectRoot, options)
      : options.only === 'reconciliation'
        ? await runReconciliationSection(projectRoot, options)
        : await runBenchmark(projectRoot, options);
  console.log(`\nBENCH_RESULT ${JSON.stringify(resultJson(options, result))}`);
  process.exitCode = 0;
} catch (error) {
  console.error('\nBENCH FAILED:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
}
// Nothing should be left running; if something is, do not hang the caller.
setTimeout(() => process.exit(), 5000).unref();
