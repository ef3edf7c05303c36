import { z } from 'zod';
import { RECONCILED_CHANNELS, reconciliationResource } from '#app/reconcile.ts';
import { getReconciliationReport } from '#app/reconciliation-report.ts';
import { parseInput } from '#app/validation.ts';
import { isCalendarDate, isRunId } from '#domain/buckets.ts';
import { httpHandler } from '#http/handler.ts';
import { json } from '#http/respond.ts';

const input = z.strictObject({
  date: z.string().refine(isCalendarDate, 'date must be a calendar date written YYYY-MM-DD'),
  channel: z.enum(RECONCILED_CHANNELS),
  run_id: z.string().refine(isRunId, 'run_id must be a run id (run_…)').optional(),
});

/**
 * `GET /v1/reconciliations/{date}?channel=…[&run_id=…]` — a channel-day's latest (or named) reconciliation run
 * (API.md "Reconciliation reports"), with the day's runs.
 */
export const handler = httpHandler({ auth: true }, async (request, { container, merchant }) => {
  const query = parseInput(input, { ...request.query, date: request.pathParameters.date });
  const { record, ...extra } = await getReconciliationReport(
    { ...container, financeMerchantIds: container.config.financeMerchantIds },
    merchant,
    { date: query.date, channel: query.channel, runId: query.run_id },
  );
  return json(200, reconciliationResource(record, extra));
});
