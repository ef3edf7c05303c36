import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createContainer } from '#adapters/container.ts';
import { RECONCILED_CHANNELS, reconcileDay, reconciliationResource } from '#app/reconcile.ts';
import { isCalendarDate, REPORT_FILES, type ReportFile, reportKey } from '#domain/buckets.ts';
import { connectToRunningStack } from '../local/stack.ts';
import { asOperator } from './operator.ts';

const USAGE = `Usage: npm run reconcile -- <command> --date YYYY-MM-DD --channel SANDBOX|ALIPAY|WECHAT_PAY
  run        reconcile the channel's bill of that day (repairs dropped orders, writes the reports)
  download   download summary.json and differences.csv through presigned URLs [--out DIR] (default .)
Targets the running local stack (npm start) unless TABLE_NAME is set, in which case it uses the AWS environment
(TABLE_NAME, BILLS_BUCKET, REPORTS_BUCKET, AWS credentials/region as usual).`;

/** Points the CLI at the local stack started by `npm start`, unless the AWS environment is configured. */
function configure(): void {
  if (process.env.TABLE_NAME) {
    process.env.PUBLIC_BASE_URL ??= 'https://unused.invalid';
    return;
  }
  connectToRunningStack(resolve(import.meta.dirname, '..', '.local'));
}

/** A one-line text progress bar: `[#####.....]  45% 1.2 MiB / 2.6 MiB` (bytes only when the total is unknown). */
export function progressBar(done: number, total: number | undefined, width = 30): string {
  const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MiB`;
  if (!total) return `${mib(done)}`;
  const ratio = Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${mib(done)} / ${mib(total)}`;
}

async function download(url: string, path: string, label: string): Promise<void> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`${label}: HTTP ${response.status}`);
  const length = Number(response.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : undefined;
  const out = createWriteStream(path);
  let done = 0;
  for await (const chunk of response.body) {
    done += chunk.byteLength;
    if (!out.write(chunk)) await new Promise<void>((drained) => out.once('drain', () => drained()));
    process.stderr.write(`\r${label} ${progressBar(done, total)}`);
  }
  await new Promise<void>((closed, failed) => out.end((error?: Error | null) => (error ? failed(error) : closed())));
  process.stderr.write(`\r${label} ${progressBar(done, total ?? done)}\n`);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { date: { type: 'string' }, channel: { type: 'string' }, out: { type: 'string' } },
  });
  const command = positionals[0];
  const { date, channel } = values;
  const known = (RECONCILED_CHANNELS as readonly string[]).includes(channel ?? '');
  if (!command || !['run', 'download'].includes(command) || !date || !isCalendarDate(date) || !known) {
    console.error(USAGE);
    process.exit(2);
  }
  const code = channel as (typeof RECONCILED_CHANNELS)[number];
  configure();
  const container = createContainer();
  if (command === 'run') {
    const record = await reconcileDay(container, { channel: code, date });
    console.log(JSON.stringify(reconciliationResource(record), null, 2));
    return;
  }
  const dir = resolve(values.out ?? '.');
  await mkdir(dir, { recursive: true });
  for (const file of Object.keys(REPORT_FILES) as ReportFile[]) {
    const key = reportKey(date, code, file);
    if (!(await container.files.headReport(key))) throw new Error(`no report ${key}: run it first`);
    await download(await container.files.presignReport(key), join(dir, file), file);
  }
  console.log(dir);
}

asOperator(main).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
