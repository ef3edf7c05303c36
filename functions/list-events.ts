import { cipherParts } from '#adapters/wiring/cipher.ts';
import { eventRecords, tableParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { eventListQuerySchema, listEvents } from '#app/listings.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler } from '#http/handler.ts';
import { eventSummaryResource, listResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...eventRecords(table) };
  return { ...base, ...cipherParts(config) };
});

/** `GET /v1/events?type=…&delivery_status=…&limit=…&cursor=…` — a page of the merchant's events, newest first. */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const page = await listEvents(container, merchant, parseInput(eventListQuerySchema, request.query));
  return json(200, listResource(page, eventSummaryResource));
});
