// Long because section 8's sample process lives here too: the bill generator, the compact payment store, the RSS
// sampler and the summary check, besides the printing.
/**
 * Section 8: the real reconcileDay use case over a generated BENCH_RECON_LINES-line sandbox bill streamed from disk,
 * against as many local SUCCEEDED payments in a compact in-memory store, compared with merely parsing the same file; in
 * a process of its own (this file is its entry) with a capped heap, sampling RSS every 50 ms. Throws if the summary's
 * counts are not exactly what was generated.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getHeapStatistics } from 'node:v8';
import type { Payment } from '#domain/payment.ts';
import type { BillEntry } from '#domain/reconciliation.ts';
import { runChild } from './flows.ts';
import { heading, keyValues, num, wrap } from './report.ts';
import type { BenchOptions } from './run.ts';

/** The child's V8 heap cap: below the 512 MB RSS target, so a run that needs more fails instead of passing. */
const HEAP_CAP_MB = 400;
/** The bill day the sample reconciles (any day will do). */
const BILL_DATE = '2026-01-15';
type SampleConfig = { lines: number; date: string; dir: string; outFile: string };
type Sample = Awaited<ReturnType<typeof runSample>>;

/** Runs the sample in its own process, prints section 8, returns BENCH_RESULT `reconciliation`. */
export async function measureReconciliation(projectRoot: string, options: BenchOptions) {
  const dir = fs.mkdtempSync(join(tmpdir(), 'pay-gateway-recon-'));
  try {
    const config: SampleConfig = { lines: options.reconLines, date: BILL_DATE, dir, outFile: join(dir, 'result.json') };
    const started = performance.now();
    await runChild({
      label: 'reconciliation sample',
      script: import.meta.filename,
      cwd: projectRoot,
      nodeArgs: ['--expose-gc', `--max-old-space-size=${HEAP_CAP_MB}`],
      env: { BENCH_RECON_CONFIG: JSON.stringify(config) },
      timeoutMs: 15 * 60_000,
    });
    const wallMs = performance.now() - started;
    const { extra: x, ...r }: Sample = JSON.parse(fs.readFileSync(config.outFile, 'utf8'));
    const m = r.summary;
    const mb = (bytes: number) => `${num(bytes / (1024 * 1024), 1)} MB`;
    const seconds = (ms: number) => `${num(ms / 1000, 2)} s`;
    console.log(heading(`8. Reconciliation of a ${num(r.lines)}-line bill`));
    console.log(
      wrap(
        `The real reconcileDay use case, SANDBOX bill of ${num(r.lines)} lines (${mb(r.bill_bytes)}) streamed from a ` +
          `file on disk, against ${num(r.lines)} local SUCCEEDED payments. The local-record store is IN MEMORY ` +
          `(column-wise, ids and times derived from an index; getMany materializes Payment objects 100 ids per call, ` +
          `settledOn scans it): DynamoDB Local cannot hold and serve 1,000,000 records within the run, so the ` +
          `${num(x.getManyCalls)} BatchGetItem calls and the GSI2 pages of a Lambda run are not in these ` +
          `figures (sections 2–4 give DynamoDB Local's rates). Reports are written to a temp dir. The run is in a ` +
          `child process with --max-old-space-size=${HEAP_CAP_MB}, so its RSS is its own.`,
        110,
      ),
    );
    const reconcile = `${num(r.reconcile_lines_per_s)} lines/s (CPU ${seconds(r.reconcile_cpu_ms)})`;
    console.log(
      keyValues([
        ['bill generated (writeSandboxBill to disk)', seconds(r.generate_ms)],
        ['local store built', `${seconds(x.storeBuildMs)}, ${mb(x.storeRss - r.rss_baseline_bytes)} over baseline`],
        ['parse only (parseBill, counting lines)', `${seconds(r.parse_ms)}, ${num(r.parse_lines_per_s)} lines/s`],
        ['reconcileDay', `${seconds(r.reconcile_ms)}, ${reconcile}`],
        ['ratio reconcile ÷ parse', `${num(r.ratio_reconcile_to_parse, 2)}×`],
        [
          'summary',
          `matched ${num(m.matched)}, amount_mismatch ${m.amount_mismatch}, status_mismatch ${m.status_mismatch}, ` +
            `local_only ${m.local_only}, channel_only ${m.channel_only}, repaired ${m.repaired} (= generated)`,
        ],
        ['totals', `local ${m.local_total}, channel ${m.channel_total}, fees ${m.fee_total} CNY`],
        ['differences.csv', `${num(r.differences_rows)} rows, ${mb(r.differences_bytes)}`],
        ['RSS baseline (child, modules loaded)', mb(r.rss_baseline_bytes)],
        ['RSS at reconcile start (store built)', mb(r.rss_reconcile_start_bytes)],
        ['peak RSS during parse only', mb(r.rss_peak_parse_bytes)],
        [
          'peak RSS during reconcileDay',
          `${mb(r.rss_peak_reconcile_bytes)} (+${mb(r.rss_peak_reconcile_bytes - r.rss_reconcile_start_bytes)} by the run)`,
        ],
        ['peak RSS of the process', `${mb(r.rss_peak_bytes)} (sampled every 50 ms; V8 heap limit ${mb(x.heapLimit)})`],
        ['child wall time (generate+parse+reconcile)', seconds(wallMs)],
      ]),
    );
    const yes = (fits: boolean) => (fits ? 'YES' : 'NO');
    console.log(
      `  target: within a Lambda's 15 minutes: ${yes(r.fits_lambda_15_min)} (${seconds(r.reconcile_ms)} here on ` +
        `this machine, in-memory lookups); peak RSS < 512 MB: ${yes(r.fits_rss_512_mb)} (${mb(r.rss_peak_bytes)})`,
    );
    return r;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the sample's own process ------------------------------------------------------------------------------------

const ID_PREFIX = 'pay_bench';
const paymentId = (i: number) => `${ID_PREFIX}${String(i).padStart(16, '0')}`;

/**
 * `size` local payments, all SUCCEEDED on `date`, held column-wise (ids and times derive from the index) so the
 * stand-in for DynamoDB costs a few MB, not the ≈0.5 GB of 1,000,000 Payment objects: the RSS is the use case's.
 */
function compactPaymentStore(size: number, date: string) {
  const amounts = Int32Array.from({ length: size }, (_, i) => 100 + ((i * 7919) % 99_900));
  const dayStart = Date.parse(`${date}T00:00:00Z`) - 8 * 3_600_000; // the Asia/Shanghai business day
  const paidAt = (i: number) => new Date(dayStart + Math.floor((i * 86_400_000) / size)).toISOString();
  const fixed = {
    merchantId: 'mch_bench',
    status: 'SUCCEEDED',
    currency: 'CNY',
    channel: 'SANDBOX',
    requestHash: 'bench',
  } as const;
  const rest = { subject: 'bench', method: 'QR', metadata: {}, refundedMinor: 0, late: false, version: 2 } as const;
  const payment = (i: number): Payment => {
    const at = paidAt(i);
    const ids = { id: paymentId(i), orderNo: `order-${i}`, channelTradeNo: `sbx_${i}`, amountMinor: amounts[i] ?? 0 };
    return { ...fixed, ...rest, ...ids, expiresAt: at, createdAt: at, updatedAt: at, paidAt: at };
  };
  const calls = { getMany: 0 };
  return {
    size,
    amounts,
    paidAt,
    calls,
    /** Like the DynamoDB repository: the records of the ids that exist, one call per batch. */
    async getMany(ids: readonly string[]) {
      calls.getMany++;
      const found = new Map<string, Payment>();
      for (const id of ids) {
        const i = id.startsWith(ID_PREFIX) ? Number(id.slice(ID_PREFIX.length)) : -1;
        if (Number.isInteger(i) && i >= 0 && i < size) found.set(id, payment(i));
      }
      return found;
    },
    async *settledOn(_channel: string, _day: string, from: string, to: string) {
      for (let i = 0; i < size; i++) {
        const at = paidAt(i);
        if (at >= from && at < to) yield payment(i);
      }
    },
  };
}

/**
 * The bill's lines, generated lazily; every 5,000th line from index 1, 3 and 4 is a channel-only id (its local record
 * becomes LOCAL_ONLY), an amount mismatch and a status mismatch. Counts what the reconciliation must find.
 */
function* billEntries(
  store: ReturnType<typeof compactPaymentStore>,
  expected: Record<string, number>,
): Generator<BillEntry> {
  for (let i = 0; i < store.size; i++) {
    const amount = store.amounts[i] ?? 0;
    const entry: BillEntry = {
      kind: 'PAYMENT',
      gatewayId: paymentId(i),
      channelTradeNo: `sbx_${i}`,
      amountMinor: amount,
      feeMinor: Math.floor(amount * 0.006),
      currency: 'CNY',
      status: 'SUCCESS',
      occurredAt: store.paidAt(i),
    };
    const kind = i % 5000;
    const counted =
      kind === 1 ? ['channel_only', 'local_only'] : [{ 3: 'amount_mismatch', 4: 'status_mismatch' }[kind] ?? 'matched'];
    for (const key of counted) expected[key] = (expected[key] ?? 0) + 1;
    if (kind === 1) entry.gatewayId = `pay_elsewhere${String(i).padStart(12, '0')}`;
    if (kind === 3) entry.amountMinor = amount + 1;
    if (kind === 4) entry.status = 'CLOSED';
    yield entry;
  }
}

/** A dependency the run must never use (only a repair would): any access is remembered, and yields nothing usable. */
const inert = <T>(name: string, touched: string[]) =>
  new Proxy({}, { get: (_target, key) => void touched.push(`${name}.${String(key)}`) }) as T;

async function runSample({ lines, date, dir }: SampleConfig) {
  const { parseBill, sniffBillChannel } = await import('#adapters/bills/parse-bill.ts');
  const { writeSandboxBill } = await import('#adapters/bills/sandbox-bill.ts');
  const { billKey, reportKey } = await import('#domain/buckets.ts');
  const { reconcileDay } = await import('#app/reconcile.ts');
  const { settlementTimeZones } = await import('#domain/business-day.ts');
  const gc = () => (globalThis as { gc?: () => void }).gc?.();
  let [peak, processPeak] = [0, 0];
  const sample = () => {
    const rss = process.memoryUsage.rss();
    [peak, processPeak] = [Math.max(peak, rss), Math.max(processPeak, rss)];
    return rss;
  };
  const resetPeak = () => {
    gc();
    peak = 0;
    return sample();
  };
  const sampler = setInterval(sample, 50);
  try {
    gc();
    const baselineRss = sample();
    let started = performance.now();
    const store = compactPaymentStore(lines, date);
    const storeBuildMs = performance.now() - started;
    gc();
    const storeRss = sample();

    const billFile = join(dir, billKey('SANDBOX', date));
    fs.mkdirSync(dirname(billFile), { recursive: true });
    const keys = ['matched', 'amount_mismatch', 'status_mismatch', 'local_only', 'channel_only', 'repaired'];
    const expected: Record<string, number> = Object.fromEntries(keys.map((key) => [key, 0]));
    started = performance.now();
    await pipeline(Readable.from(writeSandboxBill(billEntries(store, expected))), fs.createWriteStream(billFile));
    const generateMs = performance.now() - started;

    // Parse only: the same file through the same parser, counting lines, no lookups or classification.
    resetPeak();
    started = performance.now();
    let parsedLines = 0;
    for await (const event of parseBill('SANDBOX', fs.createReadStream(billFile))) {
      if (event.type === 'line') parsedLines++;
      else if (event.type === 'error') throw new Error(`the generated bill does not parse: ${event.reason}`);
    }
    const parseMs = performance.now() - started;
    const parsePeakRss = peak;

    // The real use case, its two ports in memory / on local disk; nothing is repairable, so no channel port.
    const reports = new Map<string, number>();
    let feeRecords = 0;
    const touched: string[] = [];
    const alarms: string[] = [];
    const reconcileStartRss = resetPeak();
    const cpu = process.cpuUsage();
    started = performance.now();
    const record = await reconcileDay(
      {
        files: {
          openBill: async (key) =>
            fs.statSync(join(dir, key), { throwIfNoEntry: false }) ? fs.createReadStream(join(dir, key)) : undefined,
          async putReport(key, body) {
            fs.mkdirSync(dirname(join(dir, key)), { recursive: true });
            fs.writeFileSync(join(dir, key), body);
            reports.set(key, typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
          },
        },
        reconciliations: {
          putRun: async () => undefined,
          getRun: async () => undefined,
          listRuns: async () => [],
          getMany: (ids) => store.getMany(ids),
          settledOn: (channel, day, from, to) => store.settledOn(channel, day, from, to),
        },
        bills: { parse: parseBill, sniff: sniffBillChannel },
        channels: new Map(),
        alarms: { count: (name) => void alarms.push(name) },
        clock: () => new Date(),
        store: inert('store', touched),
        payments: inert('payments', touched),
        refunds: inert('refunds', touched),
        wallets: inert('wallets', touched),
        settlementTimeZones: settlementTimeZones(),
        feeSchedules: { get: async () => undefined },
        feeRecords: {
          async put(records) {
            feeRecords += records.length;
          },
        },
        newId: (prefix) => {
          if (prefix === 'run') return 'run_0123456789abcdef';
          touched.push('newId');
          throw new Error('the reconciliation asked for a new id');
        },
      },
      { channel: 'SANDBOX', date },
    );
    const reconcileMs = performance.now() - started;
    const cpuUsed = process.cpuUsage(cpu);
    const reconcilePeakRss = peak;

    const problems: string[] = [];
    if (record.status !== 'COMPLETED') problems.push(`status ${record.status} (${JSON.stringify(record.problems)})`);
    if (record.lines !== lines || record.errors !== 0) problems.push(`lines ${record.lines}, errors ${record.errors}`);
    for (const [name, value] of Object.entries(expected)) {
      const got = record.summary[name as keyof typeof record.summary];
      if (got !== value) problems.push(`${name}: expected ${value}, got ${got}`);
    }
    if (feeRecords !== expected.matched) problems.push(`fee records: expected ${expected.matched}, got ${feeRecords}`);
    if (touched.length > 0) problems.push(`used inert dependencies: ${touched.join(', ')}`);
    if (alarms.length > 0) problems.push(`raised alarms: ${alarms.join(', ')}`);
    const differencesBytes = reports.get(reportKey(date, 'SANDBOX', 'differences.csv'));
    if (differencesBytes === undefined) problems.push('no differences.csv was written');
    if (problems.length > 0) throw new Error(`the reconciliation's summary is wrong: ${problems.join('; ')}`);
    clearInterval(sampler);
    sample();
    const cpuMs = (cpuUsed.user + cpuUsed.system) / 1000;
    // BENCH_RESULT `reconciliation`; the targets: a Lambda's 15 minutes (at 1,769 MB, one vCPU), peak RSS < 512 MB.
    return {
      lines,
      local_records: lines,
      local_store: 'in memory (compact); DynamoDB lookups not measured here',
      bill_bytes: fs.statSync(billFile).size,
      generate_ms: generateMs,
      parse_ms: parseMs,
      parse_lines_per_s: (parsedLines / parseMs) * 1000,
      reconcile_ms: reconcileMs,
      reconcile_cpu_ms: cpuMs,
      reconcile_lines_per_s: (lines / reconcileMs) * 1000,
      ratio_reconcile_to_parse: reconcileMs / parseMs,
      summary: record.summary,
      differences_rows:
        (expected.amount_mismatch ?? 0) + (expected.status_mismatch ?? 0) + (expected.channel_only ?? 0) * 2,
      differences_bytes: differencesBytes ?? 0,
      heap_cap_mb: HEAP_CAP_MB,
      rss_baseline_bytes: baselineRss,
      rss_reconcile_start_bytes: reconcileStartRss,
      rss_peak_parse_bytes: parsePeakRss,
      rss_peak_reconcile_bytes: reconcilePeakRss,
      rss_peak_bytes: processPeak,
      fits_lambda_15_min: reconcileMs < 15 * 60_000,
      fits_rss_512_mb: processPeak < 512 * 1024 * 1024,
      /** Printed only, not in BENCH_RESULT. */
      extra: {
        storeBuildMs,
        storeRss,
        heapLimit: getHeapStatistics().heap_size_limit,
        getManyCalls: store.calls.getMany,
      },
    };
  } finally {
    clearInterval(sampler);
  }
}

if (process.argv[1] === import.meta.filename) {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT'; // before the gateway's modules load: Powertools reads it on import
  try {
    const config: SampleConfig = JSON.parse(process.env.BENCH_RECON_CONFIG ?? '');
    fs.writeFileSync(config.outFile, JSON.stringify(await runSample(config)));
  } catch (error) {
    console.error('reconciliation sample failed:', error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  }
  setTimeout(() => process.exit(), 3000).unref(); // nothing should be left running; if something is, do not hang
}
