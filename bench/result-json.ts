import { availableParallelism } from 'node:os';
import type { BundleSize } from './bundles.ts';
import type { CapacityFigures } from './capacity-figures.ts';
import { capacityJson } from './capacity-json.ts';
import type { ChannelBenchResult } from './channels.ts';
import type { NotificationFigures } from './notification-cost.ts';
import type { BenchOptions } from './options.ts';
import { type ReconciliationFigures, reconciliationJson } from './reconciliation.ts';
import type { FlowFigures, RefundFigures, WriteFigures } from './report.ts';
import { notificationJson } from './report-notifications.ts';
import { type LatencySummary, round } from './stats.ts';

/** Everything one benchmark run measured. */
export interface BenchResult {
  flow: FlowFigures;
  writes: WriteFigures;
  refund: RefundFigures;
  capacity: CapacityFigures;
  bundles: BundleSize[];
  notifications: NotificationFigures;
  channels: ChannelBenchResult;
  reconciliation: ReconciliationFigures;
}

/** What `BENCH_ONLY=notifications` measured. */
export type NotificationsOnlyResult = Pick<BenchResult, 'notifications'>;

/** What `BENCH_ONLY=reconciliation` measured. */
export type ReconciliationOnlyResult = Pick<BenchResult, 'reconciliation'>;

/**
 * The machine-readable summary printed as the last line, `BENCH_RESULT {…}`. Times are in ms, rates per second,
 * sizes in bytes (KiB = 1024 bytes).
 */
export function resultJson(
  options: BenchOptions,
  result: BenchResult | NotificationsOnlyResult | ReconciliationOnlyResult,
): Record<string, unknown> {
  if ('reconciliation' in result && !('flow' in result)) {
    return {
      node: process.version,
      cpus: availableParallelism(),
      options,
      reconciliation: reconciliationJson(result.reconciliation),
    };
  }
  if (!('flow' in result)) {
    return {
      node: process.version,
      cpus: availableParallelism(),
      options,
      notifications: notificationJson(result.notifications),
    };
  }
  return {
    node: process.version,
    cpus: availableParallelism(),
    options,
    flow: flowJson(result.flow),
    dynamo: dynamoJson(result.writes),
    refund: refundJson(result.refund),
    capacity: capacityJson(result.capacity),
    bundles: result.bundles.map(bundleJson),
    bundles_total_bytes: result.bundles.reduce((sum, bundle) => sum + bundle.bytes, 0),
    notifications: notificationJson(result.notifications),
    channels: result.channels,
    reconciliation: reconciliationJson(result.reconciliation),
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

function refundJson(refund: RefundFigures) {
  return {
    refunds: refund.refunds,
    of_payments: refund.payments,
    warmup: refund.warmup,
    concurrency: refund.concurrency,
    accounts: refund.accounts,
    account_scheme: 'one account (and client) per payment-flow client',
    elapsed_ms: round(refund.elapsedMs),
    refunds_per_s: round(refund.refundsPerSecond),
    latency_ms: latencyJson(refund.latency),
    node_cpu_ms: round(refund.nodeCpuMs),
    verified: true,
    total_refunded_cny: refund.totalRefunded,
    remaining_cny: refund.remaining,
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

/** A latency summary as JSON (ms, 2 decimals). */
export function latencyJson(summary: LatencySummary) {
  return {
    p50: round(summary.p50),
    p95: round(summary.p95),
    p99: round(summary.p99),
    mean: round(summary.mean),
    max: round(summary.max),
  };
}
