import { channelParts } from '#adapters/wiring/channels.ts';
import { cipherParts } from '#adapters/wiring/cipher.ts';
import { eventRecords, paymentFlowParts, tableParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { getRefund } from '#app/refund-queries.ts';
import { httpHandler } from '#http/handler.ts';
import { refundResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...paymentFlowParts(table), ...eventRecords(table) };
  return { ...base, ...cipherParts(config), ...channelParts(base) };
});

/** `GET /v1/refunds/{id}` — the merchant's refund, synchronised with the channel while it is processing. */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  return json(200, refundResource(await getRefund(container, merchant, request.pathParameters.id ?? '')));
});
