/**
 * Section 12: the real reconcileDay use case end to end on DynamoDB Local and local S3 — a BENCH_RECON_DYNAMO_LINES
 * line (100,000) sandbox bill read from local S3, its payments looked up with BatchGetItem, the channel-day's GSI2
 * shards queried for LOCAL_ONLY, a fee record written per settled line (TransactWriteItems of 100) and the reports
 * written to local S3. The payments are seeded with BatchWriteItem first (timed apart). The emulators run in the
 * parent; the reconciliation runs in a child process of its own, so its peak RSS is the use case's (plus the SDK's).
 * Throws if the summary or the settlement is not exactly what was seeded.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild } from './flows.ts';
import { heading, keyValues, num, wrap } from './report.ts';
import type { BenchOptions } from './run.ts';

/** A future business day, so the fee schedule set at the start of the run prices its payments. */
const BILL_DATE = '2030-01-15';
const TABLE = 'pay-gateway-bench-recon';
const BUCKETS = { bills: 'pay-gateway-bills-bench', reports: 'pay-gateway-reports-bench' } as const;
const MERCHANTS = 10;
/** BatchWriteItem requests in flight while seeding. */
const SEED_CONCURRENCY = 8;

type Config = { lines: number; date: string; dynamoEndpoint: string; s3Endpoint: string; outFile: string };
type Figures = Awaited<ReturnType<typeof runSample>>;

/** Starts the emulators, runs the sample in a child, prints section 12; returns BENCH_RESULT `reconciliation_dynamo`. */
export async function measureReconciliationOnDynamo(options: BenchOptions, inMemory?: InMemoryFigures) {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { startDynamoDbLocal } = await import('../local/dynamodb-local.ts');
  const { createBuckets, startLocalS3 } = await import('../local/s3.ts');
  const { createGatewayTable } = await import('../local/tables.ts');
  const dir = fs.mkdtempSync(join(tmpdir(), 'pay-gateway-recon-dynamo-'));
  const [dynamo, s3] = await Promise.all([startDynamoDbLocal(), startLocalS3()]);
  try {
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials });
    await createGatewayTable(client, TABLE);
    client.destroy();
    const s3Client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials });
    await createBuckets(s3Client, Object.values(BUCKETS));
    s3Client.destroy();
    const config: Config = {
      lines: options.reconDynamoLines,
      date: BILL_DATE,
      dynamoEndpoint: dynamo.endpoint,
      s3Endpoint: s3.endpoint,
      outFile: join(dir, 'result.json'),
    };
    await runChild({
      label: 'DynamoDB reconciliation sample',
      script: import.meta.filename,
      cwd: process.cwd(),
      env: { BENCH_RECON_DYNAMO_CONFIG: JSON.stringify(config) },
      timeoutMs: 60 * 60_000,
    });
    const r: Figures = JSON.parse(fs.readFileSync(config.outFile, 'utf8'));
    printSection(r, inMemory);
    return r;
  } finally {
    await Promise.all([dynamo.stop(), s3.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What section 8 measured, printed beside this section's figures. */
export interface InMemoryFigures {
  lines: number;
  reconcile_ms: number;
  reconcile_lines_per_s: number;
  rss_peak_bytes: number;
}

function printSection(r: Figures, inMemory?: InMemoryFigures) {
  const mb = (bytes: number) => `${num(bytes / (1024 * 1024), 1)} MB`;
  const seconds = (ms: number) => `${num(ms / 1000, 1)} s`;
  const m = r.summary;
  console.log(heading(`12. Reconciliation of a ${num(r.lines)}-line bill through DynamoDB Local`));
  console.log(
    wrap(
      `reconcileDay end to end on DynamoDB Local and local S3 (not an in-memory store): the SANDBOX bill of ` +
        `${num(r.lines)} lines (${mb(r.bill_bytes)}) streamed from local S3, ${num(r.lines)} SUCCEEDED payments of ` +
        `${MERCHANTS} merchants looked up 100 per BatchGetItem, the day's GSI2 shards queried, one fee record per ` +
        `settled line (TransactWriteItems of 100) and the three reports written to local S3. A DEFAULT fee schedule ` +
        `(0.6 % + 0.10, merchant-borne) prices them. Payments seeded first with BatchWriteItem (25 per request, ` +
        `${SEED_CONCURRENCY} in flight). The run is a child process; DynamoDB Local (Java) and local S3 run outside ` +
        `it, so the RSS is the use case's.`,
      110,
    ),
  );
  console.log(
    keyValues([
      ['seeding (BatchWriteItem)', `${seconds(r.seed_ms)}, ${num(r.seed_items_per_s)} payments/s`],
      ['bill to local S3', `${seconds(r.bill_upload_ms)}`],
      [
        'reconcileDay',
        `${seconds(r.reconcile_ms)}, ${num(r.reconcile_lines_per_s)} lines/s (CPU ${seconds(r.cpu_ms)})`,
      ],
      [
        'summary',
        `matched ${num(m.matched)}, amount_mismatch ${m.amount_mismatch}, status_mismatch ${m.status_mismatch}, ` +
          `local_only ${m.local_only}, channel_only ${m.channel_only} (= seeded)`,
      ],
      ['settlement.csv', `${r.settlement_rows} merchants, net ${r.settlement_net} CNY (checked against the seed)`],
      ['fee records written', num(r.fee_records)],
      ['RSS at reconcile start', mb(r.rss_reconcile_start_bytes)],
      ['peak RSS during reconcileDay', mb(r.rss_peak_reconcile_bytes)],
    ]),
  );
  const rows: [string, string][] = [
    [
      `${num(r.lines)} lines, DynamoDB Local (this section)`,
      `${seconds(r.reconcile_ms)}, ${num(r.reconcile_lines_per_s)} lines/s, peak RSS ${mb(r.rss_peak_reconcile_bytes)}`,
    ],
  ];
  if (inMemory) {
    rows.push([
      `${num(inMemory.lines)} lines, in-memory store (section 8)`,
      `${seconds(inMemory.reconcile_ms)}, ${num(inMemory.reconcile_lines_per_s)} lines/s, peak RSS ` +
        mb(inMemory.rss_peak_bytes),
    ]);
  } else {
    rows.push(['in-memory store (section 8)', 'not run (BENCH_ONLY=reconciliation runs both)']);
  }
  console.log(keyValues(rows));
}

// ---- the sample's own process ------------------------------------------------------------------------------------

const paymentId = (i: number) => `pay_bench${String(i).padStart(16, '0')}`;
const amountOf = (i: number) => 100 + ((i * 7919) % 99_900);

async function runSample({ lines, date, dynamoEndpoint, s3Endpoint }: Config) {
  const { configureLocalEnvironment } = await import('../local/stack.ts');
  configureLocalEnvironment({
    dynamoEndpoint,
    s3Endpoint,
    buckets: BUCKETS,
    tableName: TABLE,
    publicBaseUrl: 'http://127.0.0.1:1',
    secrets: { masterKey: Buffer.alloc(32, 1).toString('base64'), sandboxSecret: 'bench-sandbox-secret' },
  });
  const { BatchWriteCommand } = await import('@aws-sdk/lib-dynamodb');
  const { createContainer } = await import('#adapters/container.ts');
  const { paymentItem } = await import('#adapters/dynamo/transaction-store.ts');
  const { writeSandboxBill } = await import('#adapters/bills/sandbox-bill.ts');
  const { changeFeeSchedule } = await import('#app/fees.ts');
  const { reconcileDay } = await import('#app/reconcile.ts');
  const { billKey, reportKey } = await import('#domain/buckets.ts');
  const { businessDayWindow } = await import('#domain/business-day.ts');
  const { paymentFee } = await import('#domain/fees.ts');
  const { formatAmount } = await import('#domain/money.ts');
  const container = createContainer();
  const window = businessDayWindow(container.settlementTimeZones.SANDBOX, date);
  const start = Date.parse(window.from);
  const paidAt = (i: number) => new Date(start + Math.floor((i * 86_400_000) / lines)).toISOString();
  const merchantOf = (i: number) => `mch_bench_${i % MERCHANTS}`;

  // Seed: `lines` SUCCEEDED payments, BatchWriteItem 25 at a time, SEED_CONCURRENCY requests in flight.
  let started = performance.now();
  let next = 0;
  const writer = async () => {
    while (next < lines) {
      const from = next;
      next = Math.min(lines, next + 25);
      let requests = Array.from({ length: next - from }, (_, k) => {
        const i = from + k;
        const at = paidAt(i);
        const payment = {
          id: paymentId(i),
          merchantId: merchantOf(i),
          orderNo: `order-${i}`,
          status: 'SUCCEEDED',
          amountMinor: amountOf(i),
          currency: 'CNY',
          subject: 'bench',
          channel: 'SANDBOX',
          method: 'QR',
          metadata: {},
          refundedMinor: 0,
          late: false,
          channelTradeNo: `sbx_${i}`,
          expiresAt: at,
          createdAt: at,
          updatedAt: at,
          paidAt: at,
          requestHash: 'bench',
          version: 2,
        } as const;
        return { PutRequest: { Item: paymentItem(payment) } };
      });
      for (let round = 0; requests.length > 0; round++) {
        if (round > 20) throw new Error('BatchWriteItem kept leaving items unprocessed');
        const { UnprocessedItems } = await container.db.send(
          new BatchWriteCommand({ RequestItems: { [TABLE]: requests } }),
        );
        requests = (UnprocessedItems?.[TABLE] ?? []) as typeof requests;
        if (requests.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * (round + 1)));
      }
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, writer));
  const seedMs = performance.now() - started;

  // The bill: every line matches, except (per 5,000) one channel-only id (its payment is LOCAL_ONLY), one amount
  // mismatch and one status mismatch (CLOSED at the channel).
  const expected = { matched: 0, amount_mismatch: 0, status_mismatch: 0, local_only: 0, channel_only: 0 };
  const settled = new Map<string, { gross: number; fees: number }>();
  function* entries() {
    for (let i = 0; i < lines; i++) {
      const kind = i % 5000;
      const amount = amountOf(i);
      if (kind === 1)
        [expected.channel_only, expected.local_only] = [expected.channel_only + 1, expected.local_only + 1];
      else if (kind === 3) expected.amount_mismatch++;
      else if (kind === 4) expected.status_mismatch++;
      else {
        expected.matched++;
        const totals = settled.get(merchantOf(i)) ?? { gross: 0, fees: 0 };
        const fee = paymentFee(
          { rule: { channel: 'SANDBOX', method: '*', ...RULE }, source: 'DEFAULT' },
          amount,
          'CNY',
        ).feeMinor;
        settled.set(merchantOf(i), { gross: totals.gross + amount, fees: totals.fees + fee });
      }
      yield {
        kind: 'PAYMENT' as const,
        gatewayId: kind === 1 ? `pay_elsewhere${String(i).padStart(12, '0')}` : paymentId(i),
        channelTradeNo: `sbx_${i}`,
        amountMinor: kind === 3 ? amount + 1 : amount,
        feeMinor: Math.floor(amount * 0.006),
        currency: 'CNY',
        status: kind === 4 ? 'CLOSED' : 'SUCCESS',
        occurredAt: paidAt(i),
      };
    }
  }
  started = performance.now();
  const chunks: Buffer[] = [];
  for await (const chunk of writeSandboxBill(entries())) chunks.push(Buffer.from(chunk));
  const bill = Buffer.concat(chunks);
  chunks.length = 0;
  await container.files.putBill(billKey('SANDBOX', date), bill);
  const billUploadMs = performance.now() - started;
  await changeFeeSchedule(container, { scope: 'DEFAULT', channel: 'SANDBOX', method: '*', ...RULE });

  // The run, with RSS sampled every 50 ms.
  const gc = () => (globalThis as { gc?: () => void }).gc?.();
  gc();
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const startRss = process.memoryUsage.rss();
  const sampler = setInterval(sample, 50);
  let feeRecords = 0;
  const feeRecordsPort = {
    put: async (records: Parameters<typeof container.feeRecords.put>[0]) => {
      feeRecords += records.length;
      await container.feeRecords.put(records);
    },
  };
  const cpu = process.cpuUsage();
  started = performance.now();
  const record = await reconcileDay({ ...container, feeRecords: feeRecordsPort }, { channel: 'SANDBOX', date });
  const reconcileMs = performance.now() - started;
  const cpuUsed = process.cpuUsage(cpu);
  clearInterval(sampler);
  sample();

  const problems: string[] = [];
  if (record.status !== 'COMPLETED' || record.lines !== lines) problems.push(`${record.status}, ${record.lines} lines`);
  for (const [name, value] of Object.entries(expected)) {
    const got = record.summary[name as keyof typeof record.summary];
    if (got !== value) problems.push(`${name}: expected ${value}, got ${got}`);
  }
  if (feeRecords !== expected.matched) problems.push(`fee records: expected ${expected.matched}, got ${feeRecords}`);
  const csv = await (
    await fetch(await container.files.presignReport(reportKey(date, 'SANDBOX', 'settlement.csv')))
  ).text();
  const rows = csv.trim().split('\n').slice(1);
  let net = 0;
  for (const [merchantId, totals] of [...settled].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const row = rows.find((line) => line.startsWith(`${merchantId},`));
    const columns = row?.split(',') ?? [];
    const want = [formatAmount(totals.gross, 'CNY'), formatAmount(totals.fees, 'CNY')];
    if (columns[3] !== want[0] || columns[7] !== want[1]) {
      problems.push(`settlement of ${merchantId}: ${row} (expected gross ${want[0]}, merchant fees ${want[1]})`);
    }
    net += totals.gross - totals.fees;
  }
  if (problems.length > 0) throw new Error(`the DynamoDB reconciliation is wrong: ${problems.join('; ')}`);
  container.db.destroy();
  return {
    lines,
    local_store: 'DynamoDB Local',
    bill_bytes: bill.byteLength,
    seed_ms: seedMs,
    seed_items_per_s: (lines / seedMs) * 1000,
    bill_upload_ms: billUploadMs,
    reconcile_ms: reconcileMs,
    reconcile_lines_per_s: (lines / reconcileMs) * 1000,
    cpu_ms: (cpuUsed.user + cpuUsed.system) / 1000,
    summary: record.summary,
    fee_records: feeRecords,
    settlement_rows: rows.length,
    settlement_net: formatAmount(net, 'CNY'),
    rss_reconcile_start_bytes: startRss,
    rss_peak_reconcile_bytes: peak,
  };
}

/** The DEFAULT schedule's rule in the sample: 0.6 % + 0.10, borne by the merchant. */
const RULE = { percent: '0.6', fixed: '0.10', bearer: 'MERCHANT' } as const;

if (process.argv[1] === import.meta.filename) {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  try {
    const config: Config = JSON.parse(process.env.BENCH_RECON_DYNAMO_CONFIG ?? '');
    fs.writeFileSync(config.outFile, JSON.stringify(await runSample(config)));
  } catch (error) {
    console.error(
      'DynamoDB reconciliation sample failed:',
      error instanceof Error ? (error.stack ?? error.message) : error,
    );
    process.exitCode = 1;
  }
  setTimeout(() => process.exit(), 3000).unref();
}
