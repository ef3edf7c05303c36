import { cipherParts } from '#adapters/wiring/cipher.ts';
import { eventRecords, paymentRecords, tableParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { queueParts } from '#adapters/wiring/notify.ts';
import { getEvent, replayEvent } from '#app/notifications.ts';
import { httpHandler } from '#http/handler.ts';
import { eventResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...eventRecords(table), ...paymentRecords(table) };
  return { ...base, ...cipherParts(config), ...queueParts(config) };
});

/**
 * `POST /v1/events/{id}/replay` — starts a new delivery run (202); `409 INVALID_STATE` while one is under way,
 * `429 RATE_LIMITED` past the hourly limit. Merchants dedupe by event id.
 */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const event = await replayEvent(container, merchant, request.pathParameters.id ?? '');
  const { attempts, cursor } = await getEvent(container, merchant, event.id);
  return json(202, eventResource(event, attempts, cursor));
});
