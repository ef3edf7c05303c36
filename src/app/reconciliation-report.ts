import { isCalendarDate, isRunId, REPORT_FILES, type ReportFile, runReportKey } from '#domain/buckets.ts';
import type { Merchant } from '#domain/merchant.ts';
import { NotFoundError } from '#shared/errors.ts';
import * as z from '#shared/zod.ts';
import type { ReconciliationRecord, ReconciliationStore } from './ports.ts';
import { RECONCILED_CHANNELS } from './reconcile.ts';

/** `GET /v1/reconciliations/{date}?channel=…[&run_id=…]`: the path's date and the query, validated together. */
export const reconciliationQuerySchema = z.strictObject({
  date: z.string().check(z.refine(isCalendarDate, 'date must be a calendar date written YYYY-MM-DD')),
  channel: z.enum(RECONCILED_CHANNELS),
  run_id: z.optional(z.string().check(z.refine(isRunId, 'run_id must be a run id (run_…)'))),
});

export interface ReconciliationReportDeps {
  reconciliations: Pick<ReconciliationStore, 'getRun' | 'listRuns'>;
  files: {
    headReport(key: string): Promise<unknown | undefined>;
    presignReport(key: string): Promise<string>;
  };
  /** The merchants allowed to read the gateway-wide reports (`FINANCE_MERCHANT_IDS`). */
  financeMerchantIds: readonly string[];
}

/** Runs listed beside the one shown (a day is re-run a handful of times at most). */
const LISTED_RUNS = 50;

/**
 * A channel-day's reconciliation for a finance merchant: the latest run (or `runId`), the day's runs newest first,
 * and 15-minute presigned URLs of that run's report files (`report_url`: `differences.csv`, the line-level report,
 * when it exists, else `summary.json`). Reports are gateway-wide finance data: any other merchant gets
 * `404 NOT_FOUND`, as for a run that never happened (the contract never answers 403 for a resource).
 */
export async function getReconciliationReport(
  deps: ReconciliationReportDeps,
  merchant: Merchant,
  query: { date: string; channel: ReconciliationRecord['channel']; runId?: string },
): Promise<{
  record: ReconciliationRecord;
  reportUrl: string;
  reportUrls: Record<string, string>;
  runs: ReconciliationRecord[];
}> {
  if (!deps.financeMerchantIds.includes(merchant.id)) throw new NotFoundError('reconciliation not found');
  const { date, channel, runId } = query;
  const record = await deps.reconciliations.getRun(date, channel, runId);
  if (!record) throw new NotFoundError('reconciliation not found');
  const reportUrls: Record<string, string> = {};
  for (const file of Object.keys(REPORT_FILES) as ReportFile[]) {
    const key = runReportKey(date, channel, record.runId, file);
    if (await deps.files.headReport(key)) reportUrls[file] = await deps.files.presignReport(key);
  }
  const reportUrl =
    reportUrls['differences.csv'] ??
    reportUrls['summary.json'] ??
    (await deps.files.presignReport(runReportKey(date, channel, record.runId, 'summary.json')));
  const runs = await deps.reconciliations.listRuns(date, channel, LISTED_RUNS);
  return { record, reportUrl, reportUrls, runs };
}
