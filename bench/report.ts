import type { BundleSize } from './bundles.ts';
import { type CommandCount, WRITE_COMMANDS } from './dynamo-recorder.ts';
import { heading, indent, keyValues, ms, num, table } from './format.ts';
import type { LatencySummary } from './stats.ts';

/** Figures of the full-flow run (section 1). */
export interface FlowFigures {
  flows: number;
  warmup: number;
  concurrency: number;
  accounts: number;
  elapsedMs: number;
  nodeCpuMs: number;
  paymentsPerSecond: number;
  latency: LatencySummary;
  totalCredited: string;
}

/** Figures of the write-ceiling comparison (section 2). */
export interface WriteFigures {
  counts: ReadonlyMap<string, CommandCount>;
  flows: number;
  writeCalls: number;
  writeItems: number;
  flowElapsedMs: number;
  flowWritesPerSecond: number;
  rawElapsedMs: number;
  rawNodeCpuMs: number;
  rawWritesPerSecond: number;
  rawLatency: LatencySummary;
  ratio: number;
}

/** Figures of the refund-flow run (section 3). */
export interface RefundFigures {
  refunds: number;
  /** The measured recharges of section 1 (the first `refunds` of them are refunded). */
  payments: number;
  warmup: number;
  concurrency: number;
  accounts: number;
  elapsedMs: number;
  nodeCpuMs: number;
  refundsPerSecond: number;
  latency: LatencySummary;
  totalRefunded: string;
  /** What the measured accounts still hold (0.00 when every recharge was refunded). */
  remaining: string;
}

/** Section 1: throughput and latency of whole recharge flows, and the balance verification. */
export function printFlowSection(figures: FlowFigures): void {
  console.log(heading('1. Full recharge flow on the local stack'));
  console.log(
    '  flow = POST /v1/payments (201) → POST /v1/callbacks/sandbox, signed (200) → GET /v1/accounts/{id}/balance (200)',
  );
  console.log(
    `  ${figures.concurrency} concurrent clients, each crediting its own account (${figures.accounts} accounts), ` +
      `${figures.warmup} warm-up flows excluded\n`,
  );
  console.log(
    keyValues([
      ['flows', num(figures.flows)],
      ['total time', `${num(figures.elapsedMs / 1000, 2)} s`],
      ['throughput', `${num(figures.paymentsPerSecond, 1)} payments/s`],
      ['flow latency p50', ms(figures.latency.p50)],
      ['flow latency p95', ms(figures.latency.p95)],
      ['flow latency p99', ms(figures.latency.p99)],
      ['flow latency mean / max', `${ms(figures.latency.mean)} / ${ms(figures.latency.max)}`],
      ['node CPU (gateway+clients)', cpuLine(figures.nodeCpuMs, figures.elapsedMs)],
      ['balances', `verified (${figures.accounts} accounts hold ${figures.totalCredited} CNY = sum of all flows)`],
    ]),
  );
}

/** Section 2: the DynamoDB calls the flows made, and their write rate against the raw replay's. */
export function printWriteSection(figures: WriteFigures): void {
  console.log(heading('2. DynamoDB writes: full flow vs raw DynamoDB Local ceiling'));
  console.log(`  DynamoDB API calls of the ${num(figures.flows)} measured flows (gateway handlers, instrumented):\n`);
  console.log(indent(commandTable(figures)));
  console.log();
  const calls = `${num(figures.writeCalls)} write calls (${num(figures.writeItems)} items)`;
  const rate = (elapsedMs: number, perSecond: number) =>
    `${calls} in ${num(elapsedMs / 1000, 2)} s = ${num(perSecond, 1)} writes/s`;
  const latency = figures.rawLatency;
  console.log(
    keyValues([
      ['full flow', rate(figures.flowElapsedMs, figures.flowWritesPerSecond)],
      ['raw replay', rate(figures.rawElapsedMs, figures.rawWritesPerSecond)],
      ['raw write latency', `p50 ${ms(latency.p50)}, p95 ${ms(latency.p95)}, p99 ${ms(latency.p99)}`],
      ['raw replay node CPU', cpuLine(figures.rawNodeCpuMs, figures.rawElapsedMs)],
      [
        'ratio flow / raw',
        `${num(figures.ratio, 3)}  (the full flow sustains ${num(figures.ratio * 100, 1)}% of the raw write rate)`,
      ],
    ]),
  );
}

/** Section 3: throughput and latency of whole refund flows, and the balance verification. */
export function printRefundSection(figures: RefundFigures): void {
  console.log(heading('3. Full refund flow on the local stack'));
  console.log(
    '  flow = POST /v1/refunds, full amount (201 PROCESSING) → POST /v1/callbacks/sandbox, signed refund SUCCESS ' +
      '(200)\n         → GET /v1/refunds/{id} (200 SUCCEEDED)',
  );
  console.log(
    `  ${refundedShare(figures)} of section 1 refunded once each, on ${figures.concurrency} concurrent clients, ` +
      `one per account (${figures.accounts} accounts);\n  the ${figures.warmup} warm-up recharges refunded first, ` +
      'excluded\n',
  );
  console.log(
    keyValues([
      ['refunds', num(figures.refunds)],
      ['total time', `${num(figures.elapsedMs / 1000, 2)} s`],
      ['throughput', `${num(figures.refundsPerSecond, 1)} refunds/s`],
      ['flow latency p50', ms(figures.latency.p50)],
      ['flow latency p95', ms(figures.latency.p95)],
      ['flow latency p99', ms(figures.latency.p99)],
      ['flow latency mean / max', `${ms(figures.latency.mean)} / ${ms(figures.latency.max)}`],
      ['node CPU (gateway+clients)', cpuLine(figures.nodeCpuMs, figures.elapsedMs)],
      [
        'balances',
        `verified (${figures.totalRefunded} CNY refunded; every account holds exactly its unrefunded recharges, ` +
          `${figures.remaining} CNY in total, and 0.00 frozen)`,
      ],
    ]),
  );
}

/** Section 5: the minified size of every Lambda bundle. */
export function printBundleSection(bundles: readonly BundleSize[]): void {
  console.log(heading('5. Lambda bundle sizes (esbuild: minified ESM, node22, AWS SDK bundled)'));
  const kib = (bytes: number) => num(bytes / 1024, 1);
  const rows = bundles.map((bundle) => [bundle.id, num(bundle.bytes), kib(bundle.bytes), kib(bundle.gzipBytes)]);
  const total = bundles.reduce((sum, bundle) => sum + bundle.bytes, 0);
  const totalGzip = bundles.reduce((sum, bundle) => sum + bundle.gzipBytes, 0);
  rows.push(['(total)', num(total), kib(total), kib(totalGzip)]);
  const columns = [
    { header: 'function' },
    { header: 'bytes', align: 'right' },
    { header: 'KiB', align: 'right' },
    { header: 'gzip KiB', align: 'right' },
  ] as const;
  console.log(indent(table(columns, rows)));
}

/** Writes first, then reads; alphabetical within each. */
function commandTable(figures: WriteFigures): string {
  const isWrite = (command: string) => Number(WRITE_COMMANDS.has(command));
  const rows = [...figures.counts]
    .sort(([a], [b]) => isWrite(b) - isWrite(a) || a.localeCompare(b))
    .map(([command, count]) => [
      command,
      WRITE_COMMANDS.has(command) ? 'write' : 'read',
      num(count.calls),
      num(count.items),
      num(count.calls / figures.flows, 2),
      num(count.failures),
    ]);
  const columns = [
    { header: 'command' },
    { header: 'kind' },
    { header: 'calls', align: 'right' },
    { header: 'items', align: 'right' },
    { header: 'calls/flow', align: 'right' },
    { header: 'failed', align: 'right' },
  ] as const;
  return table(columns, rows);
}

function refundedShare(figures: RefundFigures): string {
  return figures.refunds === figures.payments
    ? `all ${num(figures.payments)} recharges`
    : `the first ${num(figures.refunds)} of the ${num(figures.payments)} recharges`;
}

function cpuLine(cpuMs: number, elapsedMs: number): string {
  return `${num(cpuMs / 1000, 2)} s = ${num((cpuMs / elapsedMs) * 100, 0)}% of one core`;
}
