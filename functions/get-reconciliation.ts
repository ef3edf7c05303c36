import { z } from 'zod';
import { RECONCILED_CHANNELS, reconciliationResource } from '#app/reconcile.ts';
import { getReconciliationReport } from '#app/reconciliation-report.ts';
import { parseInput } from '#app/validation.ts';
import { isCalendarDate } from '#domain/buckets.ts';
import { httpHandler } from '#http/handler.ts';
import { json } from '#http/respond.ts';

const input = z.strictObject({
  date: z.string().refine(isCalendarDate, 'date must be a calendar date written YYYY-MM-DD'),
  channel: z.enum(RECONCILED_CHANNELS),
});

/** `GET /v1/reconciliations/{date}?channel=…` — a channel-day's reconciliation (API.md "Reconciliation reports"). */
export const handler = httpHandler({ auth: true }, async (request, { container, merchant }) => {
  const query = parseInput(input, { ...request.query, date: request.pathParameters.date });
  const { record, reportUrl } = await getReconciliationReport(
    { ...container, financeMerchantIds: container.config.financeMerchantIds },
    merchant,
    query,
  );
  return json(200, reconciliationResource(record, reportUrl));
});
