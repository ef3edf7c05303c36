import { z } from 'zod';
import { isCalendarDate, reportKey } from '#adapters/bucket-definitions.ts';
import { RECONCILED_CHANNELS, reconciliationResource } from '#app/reconcile.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler } from '#http/handler.ts';
import { json } from '#http/respond.ts';
import { NotFoundError } from '#shared/errors.ts';

const input = z.strictObject({
  date: z.string().refine(isCalendarDate, 'date must be a calendar date written YYYY-MM-DD'),
  channel: z.enum(RECONCILED_CHANNELS),
});

/**
 * `GET /v1/reconciliations/{date}?channel=…` — a channel-day's reconciliation (API.md "Reconciliation reports").
 * Reports are gateway-wide finance data: only the merchants listed in `FINANCE_MERCHANT_IDS` may read them; anyone
 * else gets `404 NOT_FOUND`, as for a run that never happened (the contract never answers 403 for a resource).
 * `report_url` is a 15-minute presigned URL of `differences.csv` (the line-level report) when it exists, else of
 * `summary.json`.
 */
export const handler = httpHandler({ auth: true }, async (request, { container, merchant }) => {
  if (!container.config.financeMerchantIds.includes(merchant.id)) throw new NotFoundError('reconciliation not found');
  const { date, channel } = parseInput(input, { ...request.query, date: request.pathParameters.date });
  const record = await container.reconciliations.getSummary(date, channel);
  if (!record) throw new NotFoundError('reconciliation not found');
  const differences = reportKey(date, channel, 'differences.csv');
  const key = (await container.files.headReport(differences)) ? differences : reportKey(date, channel, 'summary.json');
  return json(200, reconciliationResource(record, await container.files.presignReport(key)));
});
