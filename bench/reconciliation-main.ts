/**
 * Section 8's own process (started by reconciliation.ts with a capped heap): reads its configuration from
 * BENCH_RECON_CONFIG (JSON), runs the reconciliation sample, and writes the result as JSON to the configured file.
 * Exits non-zero on any failure, with the error on stderr.
 */
import { writeFileSync } from 'node:fs';

// Set before the gateway's modules load: Powertools reads its configuration when they are first imported.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

try {
  const { runReconSample } = await import('./reconciliation-sample.ts');
  const config = JSON.parse(
    process.env.BENCH_RECON_CONFIG ?? '',
  ) as import('./reconciliation-sample.ts').ReconSampleConfig;
  const result = await runReconSample(config);
  writeFileSync(config.outFile, JSON.stringify(result));
  process.exitCode = 0;
} catch (error) {
  console.error('reconciliation sample failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
}
// Nothing should be left running; if something is, do not hang the parent.
setTimeout(() => process.exit(), 3000).unref();
