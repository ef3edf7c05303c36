import type { BillChannel } from '#domain/bill.ts';
import type { BillProblem } from '#domain/bill-check.ts';
import { BILL_CONTENT_TYPE, billArchiveKey, billKey, billOriginalKey } from '#domain/buckets.ts';
import type { SettlementTimeZones } from '#domain/business-day.ts';
import type { AlarmMetrics, BillFiles, BillReader, BillSource } from './ports.ts';
import type { BillJob } from './reconcile-jobs.ts';

/** What {@link storeBill}, {@link fetchBill} and {@link unpackBillArchive} need. */
export interface BillIntakeDeps {
  files: BillFiles;
  bills: BillReader;
  settlementTimeZones: SettlementTimeZones;
}

/**
 * What became of a bill handed in: stored (then reconciled by its S3 trigger), refused, already there, not yet out,
 * or (a scheduled job only, {@link runBillJob}) failed.
 */
export type BillIntake =
  | { status: 'STORED'; key: string; lines: number; errors: number }
  | { status: 'REFUSED'; problems: BillProblem[] }
  | { status: 'PRESENT'; key: string }
  | { status: 'NOT_READY'; reason: string }
  | { status: 'FAILED'; reason: string };

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/**
 * Stores a channel's bill of a business day as `bills/{CHANNEL}/{date}.csv`, which triggers its reconciliation.
 *
 * 1. An archive (Alipay's `.csv.zip`) is unpacked to its trade-detail CSV; none → `REFUSED` (`UNREADABLE_ARCHIVE`).
 * 2. The CSV is checked whole before anything is stored: not the channel's layout, another day, a bad or missing
 *    trailer → `REFUSED` with the problems, nothing stored.
 * 3. `original: 'keep'` stores the archive as it came beside the CSV (`{date}.original.zip`); an archive uploaded to
 *    `{date}.csv.zip` is its own original. Then the CSV.
 */
export async function storeBill(
  deps: BillIntakeDeps,
  input: { channel: BillChannel; date: string; bytes: Uint8Array; archive: boolean; original: 'keep' | 'uploaded' },
): Promise<BillIntake> {
  const { channel, date, bytes } = input;
  const csv = input.archive ? deps.bills.unzip(bytes) : bytes;
  if (!csv) {
    const message = 'the archive holds no readable trade-detail .csv';
    return { status: 'REFUSED', problems: [{ code: 'UNREADABLE_ARCHIVE', message }] };
  }
  const verdict = await deps.bills.inspect(channel, once(csv), date, deps.settlementTimeZones[channel]);
  if (!verdict.accepted) return { status: 'REFUSED', problems: verdict.problems };
  if (input.archive && input.original === 'keep') {
    await deps.files.putBill(billOriginalKey(channel, date), bytes, 'application/zip');
  }
  const key = billKey(channel, date);
  await deps.files.putBill(key, csv, BILL_CONTENT_TYPE);
  return { status: 'STORED', key, lines: verdict.lines, errors: verdict.errors };
}

/**
 * Downloads a channel's bill of a business day from the channel and stores it ({@link storeBill}); a bill already
 * stored is left alone unless `force`. `NOT_READY` when the channel has not published it yet: the hourly schedule
 * asks again.
 */
export async function fetchBill(
  deps: BillIntakeDeps & { sources: ReadonlyMap<BillChannel, BillSource> },
  input: { channel: BillChannel; date: string; force?: boolean },
): Promise<BillIntake> {
  const { channel, date } = input;
  const key = billKey(channel, date);
  if (!input.force && (await deps.files.headBill(key))) return { status: 'PRESENT', key };
  const source = deps.sources.get(channel);
  if (!source) return { status: 'NOT_READY', reason: `${channel} publishes no bill here` };
  const downloaded = await source.download(date);
  if (downloaded.status === 'NOT_READY') return downloaded;
  return storeBill(deps, { channel, date, bytes: downloaded.bytes, archive: downloaded.archive, original: 'keep' });
}

/** Unpacks an archive uploaded to `bills/{CHANNEL}/{date}.csv.zip` (by hand) into the day's CSV ({@link storeBill}). */
export async function unpackBillArchive(
  deps: BillIntakeDeps,
  input: { channel: BillChannel; date: string },
): Promise<BillIntake> {
  const key = billArchiveKey(input.channel, input.date);
  const source = await deps.files.openBill(key);
  if (!source) return { status: 'REFUSED', problems: [{ code: 'NO_BILL', message: `no archive at ${key}` }] };
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return storeBill(deps, { ...input, bytes: Buffer.concat(chunks), archive: true, original: 'uploaded' });
}

/**
 * One job of the bill worker: an uploaded archive is unpacked, otherwise the bill is downloaded unless stored. A
 * bill not published yet is `NOT_READY` (the next hourly run asks again; no alarm). Any other failure — the channel
 * unreachable or refusing, an answer that does not verify, a file whose hash does not match, storage — is `FAILED`
 * and counted (`BillDownloadFailed`, alarmed), and the other jobs go on; the next run tries again.
 */
export async function runBillJob(
  deps: BillIntakeDeps & { sources: ReadonlyMap<BillChannel, BillSource>; alarms: AlarmMetrics },
  job: BillJob,
): Promise<BillIntake> {
  try {
    return job.archive ? await unpackBillArchive(deps, job) : await fetchBill(deps, job);
  } catch (error) {
    deps.alarms.count('BillDownloadFailed');
    return { status: 'FAILED', reason: error instanceof Error ? error.message : String(error) };
  }
}
