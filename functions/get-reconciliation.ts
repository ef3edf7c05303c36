import { cipherParts } from '#adapters/wiring/cipher.ts';
import { reconciliationRecords, tableParts } from '#adapters/wiring/dynamo.ts';
import { fileParts } from '#adapters/wiring/files.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { reconciliationResource } from '#app/reconcile.ts';
import { getReconciliationReport, reconciliationQuerySchema } from '#app/reconciliation-report.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler } from '#http/handler.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...reconciliationRecords(table) };
  return { ...base, ...cipherParts(config), ...fileParts(config) };
});

/**
 * `GET /v1/reconciliations/{date}?channel=…[&run_id=…]` — a channel-day's latest (or named) reconciliation run
 * (API.md "Reconciliation reports"), with the day's runs.
 */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const query = parseInput(reconciliationQuerySchema, { ...request.query, date: request.pathParameters.date });
  const { record, ...extra } = await getReconciliationReport(
    { ...container, financeMerchantIds: container.config.financeMerchantIds },
    merchant,
    { date: query.date, channel: query.channel, runId: query.run_id },
  );
  return json(200, reconciliationResource(record, extra));
});
