import { reportKey } from '#domain/buckets.ts';
import type { Merchant } from '#domain/merchant.ts';
import { NotFoundError } from '#shared/errors.ts';
import type { ReconciliationRecord, ReconciliationStore } from './ports.ts';

export interface ReconciliationReportDeps {
  reconciliations: Pick<ReconciliationStore, 'getSummary'>;
  files: {
    headReport(key: string): Promise<unknown | undefined>;
    presignReport(key: string): Promise<string>;
  };
  /** The merchants allowed to read the gateway-wide reports (`FINANCE_MERCHANT_IDS`). */
  financeMerchantIds: readonly string[];
}

/**
 * A channel-day's reconciliation for a finance merchant, with a 15-minute presigned URL of `differences.csv` (the
 * line-level report) when it exists, else of `summary.json`. Reports are gateway-wide finance data: any other
 * merchant gets `404 NOT_FOUND`, as for a run that never happened (the contract never answers 403 for a resource).
 */
export async function getReconciliationReport(
  deps: ReconciliationReportDeps,
  merchant: Merchant,
  query: { date: string; channel: ReconciliationRecord['channel'] },
): Promise<{ record: ReconciliationRecord; reportUrl: string }> {
  if (!deps.financeMerchantIds.includes(merchant.id)) throw new NotFoundError('reconciliation not found');
  const { date, channel } = query;
  const record = await deps.reconciliations.getSummary(date, channel);
  if (!record) throw new NotFoundError('reconciliation not found');
  const differences = reportKey(date, channel, 'differences.csv');
  const key = (await deps.files.headReport(differences)) ? differences : reportKey(date, channel, 'summary.json');
  return { record, reportUrl: await deps.files.presignReport(key) };
}
