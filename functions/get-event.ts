import { cipherParts } from '#adapters/wiring/cipher.ts';
import { eventRecords, tableParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { getEvent } from '#app/notifications.ts';
import { eventAttemptsQuerySchema } from '#app/query-schemas.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler } from '#http/handler.ts';
import { eventResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...eventRecords(table) };
  return { ...base, ...cipherParts(config) };
});

/** `GET /v1/events/{id}?limit=&cursor=` — the event, its delivery status and a page of attempts (latest first). */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const page = parseInput(eventAttemptsQuerySchema, request.query);
  const { event, attempts, cursor } = await getEvent(container, merchant, request.pathParameters.id ?? '', page);
  return json(200, eventResource(event, attempts, cursor));
});
