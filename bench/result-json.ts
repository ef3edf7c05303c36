import { availableParallelism } from 'node:os';
import type { BundleSize } from './bundles.ts';
import type { BenchOptions } from './options.ts';
import type { FlowFigures, WriteFigures } from './report.ts';
import { type LatencySummary, round } from './stats.ts';

/** Everything one benchmark run measured. */
export interface BenchResult {
  flow: FlowFigures;
  writes: WriteFigures;
  bundles: BundleSize[];
}

/**
 * The machine-readable summary printed as the last line, `BENCH_RESULT {…}`. Times are in ms, rates per second,
 * sizes in bytes (KiB = 1024 bytes).
 */
export function resultJson(options: BenchOptions, result: BenchResult): Record<string, unknown> {
  return {
    node: process.version,
    cpus: availableParallelism(),
    options,
    flow: flowJson(result.flow),
    dynamo: dynamoJson(result.writes),
    bundles: result.bundles.map(bundleJson),
    bundles_total_bytes: result.bundles.reduce((sum, bundle) => sum + bundle.bytes, 0),
  };
}

function flowJson(flow: FlowFigures) {
  return {
    payments: flow.flows,
    warmup: flow.warmup,
    concurrency: flow.concurrency,
    accounts: flow.accounts,
    account_scheme: 'one account per client',
    elapsed_ms: round(flow.elapsedMs),
    payments_per_s: round(flow.paymentsPerSecond),
    latency_ms: latencyJson(flow.latency),
    node_cpu_ms: round(flow.nodeCpuMs),
    verified: true,
    total_credited_cny: flow.totalCredited,
  };
}

function dynamoJson(writes: WriteFigures) {
  return {
    commands: Object.fromEntries(writes.counts),
    write_calls: writes.writeCalls,
    write_items: writes.writeItems,
    write_calls_per_flow: round(writes.writeCalls / writes.flows, 3),
    flow_writes_per_s: round(writes.flowWritesPerSecond),
    raw_elapsed_ms: round(writes.rawElapsedMs),
    raw_writes_per_s: round(writes.rawWritesPerSecond),
    raw_latency_ms: latencyJson(writes.rawLatency),
    raw_node_cpu_ms: round(writes.rawNodeCpuMs),
    ratio_flow_to_raw: round(writes.ratio, 4),
  };
}

function bundleJson(bundle: BundleSize) {
  return {
    id: bundle.id,
    entry: bundle.entry,
    bytes: bundle.bytes,
    kib: round(bundle.bytes / 1024),
    gzip_bytes: bundle.gzipBytes,
    gzip_kib: round(bundle.gzipBytes / 1024),
  };
}

function latencyJson(summary: LatencySummary) {
  return {
    p50: round(summary.p50),
    p95: round(summary.p95),
    p99: round(summary.p99),
    mean: round(summary.mean),
    max: round(summary.max),
  };
}
