import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createContainer } from '#adapters/container.ts';
import { type BillIntake, fetchBill, storeBill } from '#app/bill-intake.ts';
import { RECONCILED_CHANNELS, reconcileDay, reconciliationResource, runResource } from '#app/reconcile.ts';
import { isCalendarDate, isRunId, REPORT_FILES, type ReportFile, reportKey, runReportKey } from '#domain/buckets.ts';
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

/**
 * A bill intake as printed: stored or already there is done; refused or not published yet fails (exit 1) after
 * printing what happened.
 */
function intakeResult(intake: BillIntake, print: (value: unknown) => void, day: { channel: string; date: string }) {
  const view = { ...day, ...intake };
  if (intake.status === 'STORED' || intake.status === 'PRESENT') return view;
  print(view);
  const why =
    intake.status === 'REFUSED' ? intake.problems.map((p) => `${p.code}: ${p.message}`).join('; ') : intake.reason;
  throw new CliError(`${intake.status}: ${why}`);
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
  footer: `Dates are the channel's business day (Asia/Shanghai; docs/finance.md). Targets the running local stack
(npm start) unless TABLE_NAME is set, in which case it uses the AWS environment (TABLE_NAME, BILLS_BUCKET,
REPORTS_BUCKET, AWS credentials/region as usual).`,
  commands: {
    upload: command({
      summary: "store a bill you have (a .csv, or Alipay's .csv.zip) after checking it is that channel-day's",
      usage: `${DAY_USAGE} --file F`,
      details:
        '  --file F   the bill as the channel delivered it; a .zip is unpacked (its trade-detail CSV) and kept as the\n' +
        '             original. A bill of another channel or day, or with a bad trailer, is REFUSED (exit 1) and\n' +
        '             nothing is stored. Storing it triggers its reconciliation (S3 notification; npm start likewise).',
      options: { ...DAY_OPTIONS, file: { type: 'string' } },
      async run(values, { printLine }) {
        const day = channelDay(values);
        if (!values.file) throw new UsageError('--file is required');
        const bytes = await readFile(values.file);
        const archive = /\.zip$/i.test(values.file);
        return intakeResult(await storeBill(container(), { ...day, bytes, archive, original: 'keep' }), printLine, day);
      },
    }),
    fetch: command({
      summary: "download the channel's bill of that business day now (the sandbox publishes its own)",
      usage: `${DAY_USAGE} [--force]`,
      details: '  --force   download again even if the bill is already stored. NOT_READY (exit 1): not published yet.',
      options: { ...DAY_OPTIONS, force: { type: 'boolean' } },
      async run(values, { printLine }) {
        const day = channelDay(values);
        return intakeResult(await fetchBill(container(), { ...day, force: values.force }), printLine, day);
      },
    }),
    run: command({
      summary: "reconcile the channel's bill of that day now: a new run (repairs dropped orders/refunds, reports)",
      usage: DAY_USAGE,
      details:
        'The bill is read from the bills bucket: bills/{CHANNEL}/{YYYY-MM-DD}.csv (docs/bill-formats.md).\n' +
        'A missing or refused bill (MISSING_BILL) prints the run and exits 1.',
      options: DAY_OPTIONS,
      async run(values, { printLine }) {
        const record = await reconcileDay(container(), channelDay(values));
        if (record.status === 'COMPLETED') return reconciliationResource(record);
        printLine(reconciliationResource(record));
        throw new CliError(
          `MISSING_BILL (${record.details?.reason}): ${record.problems.map((p) => p.message).join('; ')}`,
        );
      },
    }),
    list: command({
      summary: "the day's runs, newest first",
      usage: DAY_USAGE,
      options: DAY_OPTIONS,
      async run(values) {
        const { date, channel } = channelDay(values);
        const runs = await container().reconciliations.listRuns(date, channel, 100);
        if (runs.length === 0) throw new CliError(`no run of ${channel} ${date}`);
        return { object: 'list', channel, date, data: runs.map(runResource) };
      },
    }),
    download: command({
      summary: "download a run's summary.json and differences.csv through presigned URLs (the latest by default)",
      usage: `${DAY_USAGE} [--run RUN_ID] [--out DIR]`,
      details:
        '  --run RUN_ID   a run of the day (see list); default: the latest\n' +
        '  --out DIR      where to write the files (default: the current directory); progress goes to stderr',
      options: { ...DAY_OPTIONS, out: { type: 'string' }, run: { type: 'string' } },
      async run(values) {
        const { date, channel } = channelDay(values);
        if (values.run !== undefined && !isRunId(values.run)) throw new UsageError('--run must be a run id (run_…)');
        const files = container().files;
        const dir = resolve(values.out ?? '.');
        await mkdir(dir, { recursive: true });
        const written: string[] = [];
        for (const file of Object.keys(REPORT_FILES) as ReportFile[]) {
          const key = values.run ? runReportKey(date, channel, values.run, file) : reportKey(date, channel, file);
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
