import * as z from 'zod';
import { cipherParts } from '#adapters/wiring/cipher.ts';
import { dynamoParts } from '#adapters/wiring/dynamo.ts';
import { fileParts } from '#adapters/wiring/files.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { RECONCILED_CHANNELS, reconciliationResource } from '#app/reconcile.ts';
import { getReconciliationReport } from '#app/reconciliation-report.ts';
import { parseInput } from '#app/validation.ts';
import { isCalendarDate, isRunId } from '#domain/buckets.ts';
import { httpHandler } from '#http/handler.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const base = dynamoParts(config, db);
  return { ...base, ...cipherParts(config), ...fileParts(config) };
});

const input = z.strictObject({
  date: z.string().refine(isCalendarDate, 'date must be a calendar date written YYYY-MM-DD'),
  channel: z.enum(RECONCILED_CHANNELS),
  run_id: z.string().refine(isRunId, 'run_id must be a run id (run_…)').optional(),
});

/**
 * `GET /v1/reconciliations/{date}?channel=…[&run_id=…]` — a channel-day's latest (or named) reconciliation run
 * (API.md "Reconciliation reports"), with the day's runs.
 */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const query = parseInput(input, { ...request.query, date: request.pathParameters.date });
  const { record, ...extra } = await getReconciliationReport(
    { ...container, financeMerchantIds: container.config.financeMerchantIds },
    merchant,
    { date: query.date, channel: query.channel, runId: query.run_id },
  );
  return json(200, reconciliationResource(record, extra));
});
