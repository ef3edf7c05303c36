/**
 * Section 8's measurement, run in a process of its own (reconciliation-main.ts) so that its RSS is the run's alone:
 * generates a sandbox bill of `lines` lines on disk, builds `lines` local payments in a compact in-memory store, times
 * a parse-only pass over the file, then runs the real {@link reconcileDay} use case against in-memory ports, sampling
 * RSS every 50 ms. Throws if the returned summary's counts are not exactly what was generated.
 */
import { createReadStream, createWriteStream, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseBill } from '#adapters/bills/parse-bill.ts';
import { writeSandboxBill } from '#adapters/bills/sandbox-bill.ts';
import { billKey, reportKey } from '#adapters/bucket-definitions.ts';
import { type ReconcileDeps, type ReconciliationRecord, reconcileDay } from '#app/reconcile.ts';
import type { Payment, PaymentStatus } from '#domain/payment.ts';
import type { BillEntry, ReconciliationSummary } from '#domain/reconciliation.ts';
import type { Refund } from '#domain/refund.ts';

/** What the sample is asked to do (JSON in BENCH_RECON_CONFIG). */
export interface ReconSampleConfig {
  lines: number;
  date: string;
  dir: string;
  outFile: string;
}

/** What it measured (bytes, ms). */
export interface ReconSampleResult {
  lines: number;
  billBytes: number;
  generateMs: number;
  storeBuildMs: number;
  baselineRss: number;
  storeRss: number;
  parseMs: number;
  parsedLines: number;
  parsePeakRss: number;
  reconcileMs: number;
  reconcileCpuMs: number;
  reconcileStartRss: number;
  reconcilePeakRss: number;
  processPeakRss: number;
  heapLimit: number;
  differencesBytes: number;
  differencesRows: number;
  summary: ReconciliationSummary;
  expected: Omit<ReconciliationSummary, 'local_total' | 'channel_total' | 'fee_total'>;
  storeCalls: { getMany: number; getManyIds: number; settledOn: number };
}

/** Every n-th line of the generated day gets one of the differences below (0.02 % each). */
const EVERY = 5000;
const CURRENCY = 'CNY';

/** Which line of the day, by index, is what; everything else matches. */
function lineKind(i: number): 'match' | 'channelOnly' | 'amount' | 'status' {
  switch (i % EVERY) {
    case 1:
      return 'channelOnly'; // the bill names an unknown id instead of local record i (which becomes LOCAL_ONLY)
    case 3:
      return 'amount';
    case 4:
      return 'status';
    default:
      return 'match';
  }
}

const paymentId = (i: number) => `pay_bench${String(i).padStart(16, '0')}`;
const ID_PREFIX = 'pay_bench';
const amountOf = (i: number) => 100 + ((i * 7919) % 99_900);

/**
 * `lines` local payments, all SUCCEEDED on `date`, held column-wise (an amount per record; ids, times and the rest
 * derive from the index) so the stand-in for DynamoDB costs a few MB, not the ≈0.5 GB a Map of 1,000,000 Payment
 * objects would: the RSS measured is then the use case's, not the stand-in's. getMany materializes Payment objects.
 */
class CompactPaymentStore {
  readonly amounts: Int32Array;
  readonly calls = { getMany: 0, getManyIds: 0, settledOn: 0 };
  private readonly dayStart: number;
  private readonly step: number;

  constructor(
    readonly size: number,
    date: string,
  ) {
    this.amounts = new Int32Array(size);
    for (let i = 0; i < size; i += 1) this.amounts[i] = amountOf(i);
    this.dayStart = Date.parse(`${date}T00:00:00Z`);
    this.step = 86_400_000 / size;
  }

  paidAt(i: number): string {
    return new Date(this.dayStart + Math.floor(i * this.step)).toISOString();
  }

  payment(i: number): Payment {
    const paidAt = this.paidAt(i);
    return {
      id: paymentId(i),
      merchantId: 'mch_bench',
      orderNo: `order-${i}`,
      status: 'SUCCEEDED' satisfies PaymentStatus,
      amountMinor: this.amounts[i] ?? 0,
      currency: CURRENCY,
      subject: 'bench',
      channel: 'SANDBOX',
      method: 'QR',
      metadata: {},
      refundedMinor: 0,
      late: false,
      channelTradeNo: `sbx_${i}`,
      expiresAt: paidAt,
      createdAt: paidAt,
      updatedAt: paidAt,
      paidAt,
      requestHash: 'bench',
      version: 2,
    };
  }

  indexOf(id: string): number | undefined {
    if (!id.startsWith(ID_PREFIX)) return undefined;
    const i = Number(id.slice(ID_PREFIX.length));
    return Number.isInteger(i) && i >= 0 && i < this.size ? i : undefined;
  }

  /** Like `DynamoReconciliationRepository`: the records of the ids that exist, in one call per batch. */
  async getMany(ids: readonly string[]): Promise<Map<string, Payment | Refund>> {
    this.calls.getMany += 1;
    this.calls.getManyIds += ids.length;
    const found = new Map<string, Payment | Refund>();
    for (const id of ids) {
      const i = this.indexOf(id);
      if (i !== undefined) found.set(id, this.payment(i));
    }
    return found;
  }

  async *settledOn(_channel: string, day: string, from: string, to: string): AsyncIterable<Payment | Refund> {
    this.calls.settledOn += 1;
    for (let i = 0; i < this.size; i += 1) {
      const at = this.paidAt(i);
      if (at.startsWith(day) && at >= from && at < to) yield this.payment(i);
    }
  }
}

/** The bill's lines, generated lazily (never all in memory); counts what the reconciliation must find. */
function* billEntries(store: CompactPaymentStore, expected: ReconSampleResult['expected']): Generator<BillEntry> {
  for (let i = 0; i < store.size; i += 1) {
    const kind = lineKind(i);
    const amount = store.amounts[i] ?? 0;
    const entry: BillEntry = {
      kind: 'PAYMENT',
      gatewayId: paymentId(i),
      channelTradeNo: `sbx_${i}`,
      amountMinor: amount,
      feeMinor: Math.floor(amount * 0.006),
      currency: CURRENCY,
      status: 'SUCCESS',
      occurredAt: store.paidAt(i),
    };
    if (kind === 'channelOnly') {
      entry.gatewayId = `pay_elsewhere${String(i).padStart(12, '0')}`;
      expected.channel_only += 1;
      expected.local_only += 1;
    } else if (kind === 'amount') {
      entry.amountMinor = amount + 1;
      expected.amount_mismatch += 1;
    } else if (kind === 'status') {
      entry.status = 'CLOSED';
      expected.status_mismatch += 1;
    } else {
      expected.matched += 1;
    }
    yield entry;
  }
}

/** Samples RSS every 50 ms; `peak` since the last `reset`. */
class RssSampler {
  peak = 0;
  processPeak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.sample();
    this.timer = setInterval(() => this.sample(), 50);
  }

  sample(): number {
    const rss = process.memoryUsage.rss();
    this.peak = Math.max(this.peak, rss);
    this.processPeak = Math.max(this.processPeak, rss);
    return rss;
  }

  reset(): number {
    this.peak = 0;
    return this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** A dependency the run must never use (only a repair would): any access throws, and is remembered. */
function inert<T>(name: string, touched: string[]): T {
  return new Proxy({} as object, {
    get(_target, property) {
      touched.push(`${name}.${String(property)}`);
      throw new Error(`the reconciliation used ${name}.${String(property)}, which the benchmark does not provide`);
    },
  }) as T;
}

/** Runs the whole sample (see the module comment). */
export async function runReconSample(config: ReconSampleConfig): Promise<ReconSampleResult> {
  const { lines, date, dir } = config;
  collectGarbage();
  const sampler = new RssSampler();
  try {
    const baselineRss = sampler.sample();

    let started = performance.now();
    const store = new CompactPaymentStore(lines, date);
    const storeBuildMs = performance.now() - started;
    collectGarbage();
    const storeRss = sampler.sample();

    const billFile = join(dir, billKey('SANDBOX', date));
    mkdirSync(dirname(billFile), { recursive: true });
    const expected = {
      matched: 0,
      amount_mismatch: 0,
      status_mismatch: 0,
      local_only: 0,
      channel_only: 0,
      repaired: 0,
    };
    started = performance.now();
    await pipeline(Readable.from(writeSandboxBill(billEntries(store, expected))), createWriteStream(billFile));
    const generateMs = performance.now() - started;
    const billBytes = statSync(billFile).size;

    // Parse only: the same file through the same parser, counting lines, no lookups or classification.
    collectGarbage();
    sampler.reset();
    started = performance.now();
    let parsedLines = 0;
    for await (const event of parseBill('SANDBOX', createReadStream(billFile))) {
      if (event.type === 'line') parsedLines += 1;
      else if (event.type === 'error') throw new Error(`the generated bill does not parse: ${event.reason}`);
    }
    const parseMs = performance.now() - started;
    const parsePeakRss = sampler.peak;

    // The real use case, its two ports in memory / on local disk.
    const reports = new Map<string, number>();
    const touched: string[] = [];
    const alarms: string[] = [];
    const summaries: ReconciliationRecord[] = [];
    const deps: ReconcileDeps = {
      files: {
        async openBill(key) {
          const path = join(dir, key);
          try {
            statSync(path);
          } catch {
            return undefined;
          }
          return createReadStream(path);
        },
        async putReport(key, body) {
          const path = join(dir, key);
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, body);
          reports.set(key, typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
        },
      },
      reconciliations: {
        async putSummary(record) {
          summaries.push(record);
        },
        async getSummary() {
          return undefined;
        },
        getMany: (ids) => store.getMany(ids),
        settledOn: (channel, day, from, to) => store.settledOn(channel, day, from, to),
      },
      channels: new Map(), // no port: nothing is repaired (none of the generated lines is repairable anyway)
      alarms: {
        count(name) {
          alarms.push(name);
        },
      },
      clock: () => new Date(),
      store: inert('store', touched),
      payments: inert('payments', touched),
      wallets: inert('wallets', touched),
      newId: () => {
        touched.push('newId');
        throw new Error('the reconciliation asked for a new id');
      },
    };
    collectGarbage();
    const reconcileStartRss = sampler.reset();
    const cpu = process.cpuUsage();
    started = performance.now();
    const record = await reconcileDay(deps, { channel: 'SANDBOX', date });
    const reconcileMs = performance.now() - started;
    const cpuUsed = process.cpuUsage(cpu);
    const reconcilePeakRss = sampler.peak;

    const problems: string[] = [];
    if (record.status !== 'COMPLETED') problems.push(`status ${record.status} (${JSON.stringify(record.problems)})`);
    if (record.lines !== lines || record.errors !== 0) problems.push(`lines ${record.lines}, errors ${record.errors}`);
    for (const [name, value] of Object.entries(expected)) {
      const got = record.summary[name as keyof typeof expected];
      if (got !== value) problems.push(`${name}: expected ${value}, got ${got}`);
    }
    if (touched.length > 0) problems.push(`used inert dependencies: ${touched.join(', ')}`);
    if (alarms.length > 0) problems.push(`raised alarms: ${alarms.join(', ')}`);
    const differencesBytes = reports.get(reportKey(date, 'SANDBOX', 'differences.csv'));
    if (differencesBytes === undefined) problems.push('no differences.csv was written');
    if (problems.length > 0) throw new Error(`the reconciliation's summary is wrong: ${problems.join('; ')}`);
    const differencesRows = expected.amount_mismatch + expected.status_mismatch + expected.channel_only * 2;

    return {
      lines,
      billBytes,
      generateMs,
      storeBuildMs,
      baselineRss,
      storeRss,
      parseMs,
      parsedLines,
      parsePeakRss,
      reconcileMs,
      reconcileCpuMs: (cpuUsed.user + cpuUsed.system) / 1000,
      reconcileStartRss,
      reconcilePeakRss,
      processPeakRss: sampler.processPeak,
      heapLimit: (await import('node:v8')).getHeapStatistics().heap_size_limit,
      differencesBytes: differencesBytes ?? 0,
      differencesRows,
      summary: record.summary,
      expected,
      storeCalls: { ...store.calls },
    };
  } finally {
    sampler.stop();
  }
}
