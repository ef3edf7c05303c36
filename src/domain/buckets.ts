/**
 * The reconciliation buckets and their object keys, declared once: the CDK stack creates the buckets (and their
 * lifecycle rules) from these values, the local stack creates buckets of the local names, and the S3 adapter, the
 * reconcile use case and the reconciliations API build keys with the same functions, so none of them can drift.
 * No AWS imports here: CDK and the local emulator each translate these plain values into their own API.
 *
 * Retention (finance keeps evidence): a reconciliation report is the gateway's proof of what a channel settled and of
 * every difference found, and the bill is the source it was computed from. Both are kept three years, the bill as
 * long as the report, so a report never outlives the evidence behind it. Three years covers the yearly audit of the
 * previous year and a channel's dispute window with margin; where a regulator requires longer (e.g. five years for a
 * licensed payment institution's transaction records), raise `EVIDENCE_RETENTION_DAYS` here — the stack follows.
 *
 * Both buckets are versioned: a version that stops being current (a re-downloaded, corrected bill; a re-run report;
 * a deletion; the three-year expiry itself, which only adds a delete marker) is kept one more year. So an earlier
 * report or bill stays visible to the following yearly audit, a mistaken overwrite or deletion can be undone for a
 * year, and nothing outlives its retention by more than that year.
 */
import { CHANNELS, type Channel } from '#domain/payment.ts';

/** What a bucket holds and how long, in plain values (see the module comment for the retention choices). */
export interface BucketDefinition {
  /** The bucket's role, also the middle of its names (`pay-gateway-<role>-…`). */
  readonly role: 'bills' | 'reports';
  /**
   * The bucket's name on the local stack (`npm start`, the tests). On AWS CloudFormation names the bucket (names are
   * global across all accounts, and a fixed name would stop two stages sharing an account); the stack outputs it.
   */
  readonly localName: string;
  /** Every object key starts with this prefix (the lifecycle rules are scoped to it). */
  readonly keyPrefix: string;
  /** Days after creation an object moves to S3 Standard-IA (read rarely after that, still in milliseconds). */
  readonly infrequentAccessAfterDays: number;
  /** Days after creation the current version of an object expires. */
  readonly expireAfterDays: number;
  /** Days a version is kept after it stopped being current (replaced, deleted or expired). */
  readonly noncurrentVersionExpireAfterDays: number;
  /** Days after which an upload that never completed is aborted (its parts cost storage and serve nobody). */
  readonly abortIncompleteUploadAfterDays: number;
}

/** Three years: how long finance keeps bills and reports (see the module comment). */
export const EVIDENCE_RETENTION_DAYS = 1095;

/** One year: how long a replaced, deleted or expired version stays recoverable (see the module comment). */
export const NONCURRENT_RETENTION_DAYS = 365;

/**
 * Channel bill files as downloaded from Alipay / WeChat Pay (or written by the sandbox), one per channel and day:
 * `bills/{CHANNEL}/{YYYY-MM-DD}.csv`. The reconcile run reads a day's bill within a day or two (a re-run within the
 * month), so after 30 days it moves to Standard-IA. S3 does not transition objects under 128 KB, so a small
 * channel's bills stay in Standard rather than pay IA's 128 KB minimum.
 */
export const BILLS_BUCKET = {
  role: 'bills',
  localName: 'pay-gateway-bills-local',
  keyPrefix: 'bills/',
  infrequentAccessAfterDays: 30,
  expireAfterDays: EVIDENCE_RETENTION_DAYS,
  noncurrentVersionExpireAfterDays: NONCURRENT_RETENTION_DAYS,
  abortIncompleteUploadAfterDays: 7,
} as const satisfies BucketDefinition;

/**
 * Reconciliation reports, per day and channel: `reports/{YYYY-MM-DD}/{CHANNEL}/summary.json` and
 * `differences.csv` (the latest run's), and every run's own under `…/runs/{runId}/`. Finance reads them through
 * presigned URLs during the month and the quarter close, so they stay in Standard for 90 days.
 */
export const REPORTS_BUCKET = {
  role: 'reports',
  localName: 'pay-gateway-reports-local',
  keyPrefix: 'reports/',
  infrequentAccessAfterDays: 90,
  expireAfterDays: EVIDENCE_RETENTION_DAYS,
  noncurrentVersionExpireAfterDays: NONCURRENT_RETENTION_DAYS,
  abortIncompleteUploadAfterDays: 7,
} as const satisfies BucketDefinition;

/** The files of one channel-day's report, with the content type each is stored (and downloaded) with. */
export const REPORT_FILES = {
  'summary.json': 'application/json',
  'differences.csv': 'text/csv; charset=utf-8',
  'settlement.csv': 'text/csv; charset=utf-8',
} as const;

/** A report file name: `summary.json`, `differences.csv` or `settlement.csv` (per-merchant settlement). */
export type ReportFile = keyof typeof REPORT_FILES;

/** The content type a bill file is stored with. */
export const BILL_CONTENT_TYPE = 'text/csv; charset=utf-8';

/** How long a presigned report URL is valid: 15 minutes. */
export const REPORT_URL_TTL_SECONDS = 900;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `date` is a real calendar date written `YYYY-MM-DD` (2024-02-30 is not). */
export function isCalendarDate(date: string): boolean {
  const match = DATE.exec(date);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const parsed = new Date(Date.UTC(year, month - 1, day));
  return parsed.getUTCFullYear() === year && parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === day;
}

/**
 * The key of a channel's bill for a day: `bills/{CHANNEL}/{YYYY-MM-DD}.csv`. Throws on an unknown channel or a date
 * that is not a calendar date, so request input can never address another key.
 */
export function billKey(channel: Channel, date: string): string {
  return `${BILLS_BUCKET.keyPrefix}${checkChannel(channel)}/${checkDate(date)}.csv`;
}

/**
 * The key of a bill archive uploaded as the channel delivers it (Alipay's `.csv.zip`): `bills/{CHANNEL}/{date}.csv.zip`.
 * Its upload is unpacked into {@link billKey} (the archive stays as the original).
 */
export function billArchiveKey(channel: Channel, date: string): string {
  return `${billKey(channel, date)}.zip`;
}

/** Where a downloaded bill's original file is kept beside its CSV (an archive: `bills/{CHANNEL}/{date}.original.zip`). */
export function billOriginalKey(channel: Channel, date: string): string {
  return billKey(channel, date).replace(/\.csv$/, '.original.zip');
}

/**
 * The channel and day of a bill key (`archive`: a `.csv.zip` to unpack), or `undefined` if `key` is not one (e.g.
 * from an S3 event or a listing).
 */
export function parseBillKey(key: string): { channel: Channel; date: string; archive: boolean } | undefined {
  const match = /^bills\/([A-Z_]+)\/(\d{4}-\d{2}-\d{2})\.csv(\.zip)?$/.exec(key);
  const [channel, date] = [match?.[1], match?.[2]];
  if (!channel || !date || !isChannel(channel) || !isCalendarDate(date)) return undefined;
  return { channel, date, archive: match?.[3] !== undefined };
}

/**
 * The key of one file of a channel-day's report: `reports/{YYYY-MM-DD}/{CHANNEL}/{file}`. Date first, so one day's
 * reports of every channel list under one prefix. Throws like {@link billKey}.
 */
export function reportKey(date: string, channel: Channel, file: ReportFile): string {
  if (!Object.hasOwn(REPORT_FILES, file)) throw new Error(`unknown report file: ${file}`);
  return `${REPORTS_BUCKET.keyPrefix}${checkDate(date)}/${checkChannel(channel)}/${file}`;
}

const RUN_ID = /^run_\d{8}T\d{9}Z_[0-9a-f]{8}$/;

/** Whether `runId` is a reconciliation run id (`run_20261201T230501123Z_1a2b3c4d`: start time, then random). */
export function isRunId(runId: string): boolean {
  return RUN_ID.test(runId);
}

/** A run's own copy of a report file: `reports/{YYYY-MM-DD}/{CHANNEL}/runs/{runId}/{file}`. Throws like {@link billKey}. */
export function runReportKey(date: string, channel: Channel, runId: string, file: ReportFile): string {
  if (!isRunId(runId)) throw new Error(`not a run id: ${runId}`);
  return reportKey(date, channel, file).replace(/[^/]+$/, `runs/${runId}/${file}`);
}

function isChannel(value: string): value is Channel {
  return (CHANNELS as readonly string[]).includes(value);
}

function checkChannel(channel: string): Channel {
  if (!isChannel(channel)) throw new Error(`unknown channel: ${channel}`);
  return channel;
}

/** `date` if it is a `YYYY-MM-DD` calendar date; throws otherwise (a programming error, not client input). */
export function checkDate(date: string): string {
  if (!isCalendarDate(date)) throw new Error(`not a YYYY-MM-DD date: ${date}`);
  return date;
}
