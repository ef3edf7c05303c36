/** Sections 1–5's printing and the plain-text helpers every section prints with (tables, key/value lines, numbers). */

import type { BundleFigures } from './bundles.ts';
import { type CapacityFigures, PRICES, WRITES, type WriteFigures } from './capacity.ts';
import type { Latency, measureRefunds, rechargeFigures } from './flows.ts';

/**
 * A plain-text table, indented two spaces: header, a rule under it, the rows; columns padded to their widest cell. A
 * header starting with `>` is right-aligned (the `>` is not printed).
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const columns = headers.map((h) => ({ header: h.replace(/^>/, ''), right: h.startsWith('>') }));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => (c.right ? (cells[i] ?? '').padStart(widths[i] ?? 0) : (cells[i] ?? '').padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return indent([line(columns.map((c) => c.header)), rule, ...rows.map(line)].join('\n'));
}

/** `label  value` lines with the values aligned; with `width`, each value word-wrapped to fit. */
export function keyValues(pairs: readonly (readonly [string, string])[], width?: number): string {
  const labelWidth = Math.max(...pairs.map(([label]) => label.length));
  const valueIndent = `\n${' '.repeat(labelWidth + 4)}`;
  return pairs
    .map(([label, value]) => {
      const text = width ? wrap(value, width - labelWidth - 4).replaceAll('\n', valueIndent) : value;
      return `  ${label.padEnd(labelWidth)}  ${text}`;
    })
    .join('\n');
}

export const heading = (title: string) => `\n=== ${title} ${'='.repeat(Math.max(3, 100 - title.length))}`;
export const num = (value: number, decimals = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
export const usd = (value: number) =>
  value === 0 ? '$0.00' : value < 0.01 ? `$${value.toPrecision(2)}` : `$${num(value, 2)}`;
export const ms = (value: number) => `${num(value, 1)} ms`;
export const indent = (text: string) => text.replace(/^/gm, '  ');

/** Word-wraps `text` to `width` columns; continuation lines start with `hanging`. */
export function wrap(text: string, width: number, hanging = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && (lines.length ? hanging.length : 0) + line.length + 1 + word.length > width) {
      lines.push((lines.length ? hanging : '') + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push((lines.length ? hanging : '') + line);
  return lines.join('\n');
}

const cpuLine = (cpuMs: number, elapsedMs: number) =>
  `${num(cpuMs / 1000, 2)} s = ${num((cpuMs / elapsedMs) * 100, 0)}% of one core`;

/** Sections 1 and 3: a flow run's count, time, rate, latency percentiles, CPU and its verified balances. */
function printFlows(count: [string, number], rate: string, balances: string, f: FlowFigures): void {
  const { latency_ms: l } = f;
  const pairs: [string, string][] = [
    [count[0], num(count[1])],
    ['total time', `${num(f.elapsed_ms / 1000, 2)} s`],
    ['throughput', rate],
    ...(['p50', 'p95', 'p99'] as const).map((p): [string, string] => [`flow latency ${p}`, ms(l[p])]),
    ['flow latency mean / max', `${ms(l.mean)} / ${ms(l.max)}`],
    ['node CPU (gateway+clients)', cpuLine(f.node_cpu_ms, f.elapsed_ms)],
    ['balances', balances],
  ];
  console.log(keyValues(pairs));
}
type FlowFigures = { elapsed_ms: number; latency_ms: Latency; node_cpu_ms: number };

/** Section 1: throughput and latency of whole recharge flows, and the balance verification. */
export function printFlowSection(f: Awaited<ReturnType<typeof rechargeFigures>>): void {
  console.log(heading('1. Full recharge flow on the local stack'));
  console.log(
    '  flow = POST /v1/payments (201) → POST /v1/callbacks/sandbox, signed (200) → GET /v1/accounts/{id}/balance (200)\n' +
      `  ${f.concurrency} concurrent clients, each crediting its own account (${f.accounts} accounts), ${f.warmup} ` +
      'warm-up flows excluded\n',
  );
  const balances = `verified (${f.accounts} accounts hold ${f.total_credited_cny} CNY = sum of all flows)`;
  printFlows(['flows', f.payments], `${num(f.payments_per_s, 1)} payments/s`, balances, f);
}

/** Section 2: the DynamoDB calls the flows made, and their write rate against the raw replay's. */
export function printWriteSection(w: WriteFigures, flowElapsedMs: number, flows: number): void {
  console.log(heading('2. DynamoDB writes: full flow vs raw DynamoDB Local ceiling'));
  console.log(`  DynamoDB API calls of the ${num(flows)} measured flows (gateway handlers, instrumented):\n`);
  const isWrite = (command: string) => Number(WRITES.has(command));
  const rows = Object.entries(w.commands)
    .sort(([a], [b]) => isWrite(b) - isWrite(a) || a.localeCompare(b))
    .map(([command, c]) => [
      ...[command, WRITES.has(command) ? 'write' : 'read', num(c.calls), num(c.items)],
      ...[num(c.calls / flows, 2), num(c.failures)],
    ]);
  console.log(`${table(['command', 'kind', '>calls', '>items', '>calls/flow', '>failed'], rows)}\n`);
  const rate = (elapsedMs: number, perSecond: number) =>
    `${num(w.write_calls)} write calls (${num(w.write_items)} items) in ${num(elapsedMs / 1000, 2)} s = ${num(perSecond, 1)} writes/s`;
  const l = w.raw_latency_ms;
  const share = `(the full flow sustains ${num(w.ratio_flow_to_raw * 100, 1)}% of the raw write rate)`;
  console.log(
    `  in ${num(w.round_ratios.length)} rounds: each round of flows, then at once its own writes replayed raw (new ` +
      'keys, same calls,\n  items, conditions and concurrency), so both rates meet DynamoDB Local equally warm and ' +
      'equally full\n',
  );
  console.log(
    keyValues([
      ['full flow', rate(flowElapsedMs, w.flow_writes_per_s)],
      ['raw replay', rate(w.raw_elapsed_ms, w.raw_writes_per_s)],
      ['raw write latency', `p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, p99 ${ms(l.p99)}`],
      ['raw replay node CPU', cpuLine(w.raw_node_cpu_ms, w.raw_elapsed_ms)],
      ['ratio flow / raw', `${num(w.ratio_flow_to_raw, 3)}  ${share}`],
      ['ratio by round', w.round_ratios.map((ratio) => num(ratio, 3)).join(', ')],
    ]),
  );
}

/** Section 3: throughput and latency of whole refund flows, and the balance verification. */
export function printRefundSection(f: Awaited<ReturnType<typeof measureRefunds>>): void {
  console.log(heading('3. Full refund flow on the local stack'));
  const share =
    f.refunds === f.of_payments
      ? `all ${num(f.of_payments)} recharges`
      : `the first ${num(f.refunds)} of the ${num(f.of_payments)} recharges`;
  console.log(
    '  flow = POST /v1/refunds, full amount (201 PROCESSING) → POST /v1/callbacks/sandbox, signed refund SUCCESS (200)\n' +
      '         → GET /v1/refunds/{id} (200 SUCCEEDED)\n' +
      `  ${share} of section 1 refunded once each, on ${f.concurrency} concurrent clients, one per account ` +
      `(${f.accounts} accounts);\n  the ${f.warmup} warm-up recharges refunded first, excluded\n`,
  );
  const balances =
    `verified (${f.total_refunded_cny} CNY refunded; every account holds exactly its unrefunded recharges, ` +
    `${f.remaining_cny} CNY in total, and 0.00 frozen)`;
  printFlows(['refunds', f.refunds], `${num(f.refunds_per_s, 1)} refunds/s`, balances, f);
}

const units = (value: number | null | undefined) => (value === null || value === undefined ? 'n/a' : num(value, 2));
const dollars = (value: number | null) => (value === null ? 'n/a' : `$${num(value, 2)}`);
const UNIT_HEADERS = ['>WCU (Local)', '>WRU (per item)'];

/** Section 4: DynamoDB capacity of one recharge-and-full-refund cycle, and its on-demand price. */
export function printCapacitySection(c: CapacityFigures): void {
  console.log(heading('4. DynamoDB capacity per recharge-and-full-refund cycle (ReturnConsumedCapacity)'));
  console.log(
    `  ${num(c.cycles)} sequential cycles on one account: POST /v1/payments → payment callback → GET balance → ` +
      'POST /v1/refunds → refund callback → GET /v1/refunds/{id}\n' +
      '  every handler DynamoDB call metered; figures per cycle. WCU (Local) = ConsumedCapacity as DynamoDB Local reports it;\n' +
      '  WRU (per item) = DynamoDB per-item rule: a transaction = 2 × the standard units of each item (each re-measured alone,\n' +
      '  against its previous version, in a scratch table), any other write = its reported units\n',
  );
  const step = (s: CapacityFigures['steps'][number]) => [
    ...[s.step, num(s.write_calls, 2), units(s.wcu_dynamodb_local), units(s.wru_per_item_rule)],
    ...[num(s.read_calls, 2), units(s.rcu)],
  ];
  const sandbox = { ...c.sandbox_channel_record, step: `(not counted) ${c.sandbox_channel_record.step}` };
  const stepRows = [...c.steps.map(step), step(c.per_cycle), step(sandbox)];
  console.log(table(['step', '>writes', ...UNIT_HEADERS, '>reads', '>RCU'], stepRows));
  console.log(`\n  by call (per cycle):\n`);
  const callRows = c.calls.map((r) => [
    ...[r.step, r.call, num(r.calls, 2), num(r.items, 2)],
    ...('rcu' in r ? ['', '', units(r.rcu)] : [units(r.wcu_dynamodb_local), units(r.wru_per_item_rule), '']),
  ]);
  console.log(`${table(['step', 'call', '>calls', '>items', ...UNIT_HEADERS, '>RCU'], callRows)}\n`);
  const t = c.per_cycle;
  const range = (r: [number, number] | null) => (r ? ` (single cycles: ${units(r[0])} – ${units(r[1])})` : '');
  const withoutHalfIndex =
    t.wru_per_item_rule === null || t.wru_index_writes === null ? null : t.wru_per_item_rule - t.wru_index_writes / 2;
  const nonceCalls = c.calls.filter((r) => r.kind === 'write' && r.call.endsWith(' NONCE') && !r.call.includes('+'));
  const signed = nonceCalls.reduce((n, r) => n + r.calls, 0);
  const cost = c.cost_usd_per_million_cycles;
  const indexWrites =
    `${units(t.wru_index_writes)} (transactional 2× assumed for index writes too; if AWS bills them once, the cycle ` +
    `takes ${units(withoutHalfIndex)})`;
  const dollarsLine = `writes ${dollars(cost.writes_per_item_rule)} (per-item rule) / ${dollars(cost.writes_dynamodb_local)}`;
  const prices = `$${PRICES.dynamoWritePerMillion} per million write request units, $${PRICES.dynamoReadPerMillion}`;
  console.log(
    keyValues([
      ['WCU per cycle, DynamoDB Local', `${units(t.wcu_dynamodb_local)}${range(t.wcu_dynamodb_local_range)}`],
      ['WRU per cycle, per-item rule', `${units(t.wru_per_item_rule)}${range(t.wru_per_item_rule_range)}`],
      ['  of which index writes', indexWrites],
      ['  of which auth nonces', `${units(t.wru_auth_nonces)} (${num(signed, 2)} signed merchant requests)`],
      ['RCU per cycle', `${units(t.rcu)} (${num(t.read_calls, 2)} reads)`],
      ['on-demand $ per 1M cycles', `${dollarsLine} (Local's figure), reads ${dollars(cost.reads)}`],
      ['  prices (us-east-1)', `${prices} per million read request units (docs/cost-model.md)`],
    ]),
  );
  const tx = c.transactions;
  const notes = [
    tx.wcu_dynamodb_local !== null && tx.wru_per_item_rule !== null && tx.wcu_dynamodb_local !== tx.wru_per_item_rule
      ? `for the ${num(tx.calls, 2)} TransactWriteItems (${num(tx.items, 2)} items) of a cycle DynamoDB Local ` +
        `reports ${units(tx.wcu_dynamodb_local)} WCU,\n        the per-item rule gives ${units(tx.wru_per_item_rule)}: ` +
        "DynamoDB Local's transactional ConsumedCapacity does not follow DynamoDB's per-item rule\n" +
        '        (its single-item figures do), so the per-item figure is the one to price.'
      : '',
    c.calls_without_consumed_capacity > 0
      ? `${c.calls_without_consumed_capacity} calls came back without ConsumedCapacity: their figures are n/a.`
      : '',
    c.failed_calls > 0 ? `${c.failed_calls} metered calls failed: the figures they touch are n/a.` : '',
    ...c.per_item_errors.map((error) => `per-item figure unavailable: ${error}`),
  ];
  for (const note of notes.filter(Boolean)) console.log(`  note: ${note}`);
}

/** Section 5: every function's bundle bytes and cold import time against the minimal DynamoDB-only handler. */
export function printBundleSection(b: BundleFigures): void {
  console.log(heading('5. Lambda bundles (esbuild: minified ESM, node22, AWS SDK bundled, no source map)'));
  const kib = (bytes: number) => num(bytes / 1024, 1);
  const rows = [b.minimal, ...b.functions].map((f) => [
    f.api ? f.id : f.id === b.minimal.id ? f.id : `${f.id} (worker)`,
    kib(f.bytes),
    kib(f.gzip_bytes),
    num(f.bytes_ratio, 2),
    num(f.import_ms, 0),
    num(f.import_ratio, 2),
  ]);
  console.log(table(['function', '>KiB', '>gzip KiB', '>bytes ×', '>import ms', '>import ×'], rows));
  const e = b.sdk_external;
  const m = b.source_map;
  const probe = b.functions.find((f) => f.id === e.id);
  console.log(
    `  import ms: median of ${b.runs} fresh Node processes each. Worst API function: ` +
      `${num(b.max_bytes_ratio, 2)}× the minimal handler's bytes, ${num(b.max_import_ratio, 2)}× its import time ` +
      '(goal ≤ 1.5×).\n' +
      `  AWS SDK from node_modules instead of bundled: ${e.id} ${kib(e.bytes)} KiB imports in ` +
      `${num(e.import_ms, 0)} ms (bundled: ${num(probe?.import_ms ?? Number.NaN, 0)} ms); minimal handler ` +
      `${kib(e.minimal_bytes)} KiB in ${num(e.minimal_import_ms, 0)} ms (bundled: ${num(b.minimal.import_ms, 0)} ms).\n` +
      `  With its ${kib(m.map_bytes)} KiB source map and --enable-source-maps, ${m.id} imports in ` +
      `${num(m.import_ms, 0)} ms.`,
  );
}
