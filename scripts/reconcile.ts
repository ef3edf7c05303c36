import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createContainer } from '#adapters/container.ts';
import { RECONCILED_CHANNELS, reconcileDay, reconciliationResource } from '#app/reconcile.ts';
import { isCalendarDate, REPORT_FILES, type ReportFile, reportKey } from '#domain/buckets.ts';
import { CliError, type CliSpec, command, connectTarget, runIfMain, UsageError } from './cli.ts';

/** Points the CLI at its target and builds the container (the AWS environment needs no public URL). */
function container() {
  if (connectTarget() === 'aws') process.env.PUBLIC_BASE_URL ??= 'https://unused.invalid';
  return createContainer();
}

const DAY_OPTIONS = { date: { type: 'string' }, channel: { type: 'string' } } as const;
const DAY_USAGE = `--date YYYY-MM-DD --channel ${RECONCILED_CHANNELS.join('|')}`;

/** The reconciled channel-day named by `--date` and `--channel`. */
function channelDay(values: { date?: string; channel?: string }) {
  if (!values.date || !isCalendarDate(values.date)) throw new UsageError('--date YYYY-MM-DD is required');
  const channel = values.channel?.toUpperCase() ?? '';
  if (!(RECONCILED_CHANNELS as readonly string[]).includes(channel)) {
    throw new UsageError(`--channel must be one of ${RECONCILED_CHANNELS.join(', ')}`);
  }
  return { date: values.date, channel: channel as (typeof RECONCILED_CHANNELS)[number] };
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

/** `npm run reconcile`: reconcile a channel's daily bill and download its reports. */
export const reconcileCli: CliSpec = {
  name: 'reconcile',
  summary: "Reconcile a channel's daily bill against the gateway's records and fetch the reports (finance).",
  footer: `Targets the running local stack (npm start) unless TABLE_NAME is set, in which case it uses the AWS environment
(TABLE_NAME, BILLS_BUCKET, REPORTS_BUCKET, AWS credentials/region as usual).`,
  commands: {
    run: command({
      summary: "reconcile the channel's bill of that day (repairs dropped orders, writes the reports)",
      usage: DAY_USAGE,
      details: 'The bill is read from the bills bucket: bills/{CHANNEL}/{YYYY-MM-DD}.csv (docs/bill-formats.md).',
      options: DAY_OPTIONS,
      async run(values) {
        const day = channelDay(values);
        return reconciliationResource(await reconcileDay(container(), day));
      },
    }),
    download: command({
      summary: 'download summary.json and differences.csv through presigned URLs',
      usage: `${DAY_USAGE} [--out DIR]`,
      details: '  --out DIR   where to write the two files (default: the current directory); progress goes to stderr',
      options: { ...DAY_OPTIONS, out: { type: 'string' } },
      async run(values) {
        const { date, channel } = channelDay(values);
        const files = container().files;
        const dir = resolve(values.out ?? '.');
        await mkdir(dir, { recursive: true });
        const written: string[] = [];
        for (const file of Object.keys(REPORT_FILES) as ReportFile[]) {
          const key = reportKey(date, channel, file);
          if (!(await files.headReport(key))) throw new CliError(`no report ${key}: reconcile the day first (run)`);
          await download(await files.presignReport(key), join(dir, file), file);
          written.push(join(dir, file));
        }
        return { dir, files: written };
      },
    }),
  },
};

runIfMain(import.meta.filename, reconcileCli);
