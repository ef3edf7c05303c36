import { channelParts } from '#adapters/wiring/channels.ts';
import { cipherParts } from '#adapters/wiring/cipher.ts';
import { paymentFlowParts, tableParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { closePayment } from '#app/close-payment.ts';
import { idempotencyKeyOf } from '#app/idempotency-key.ts';
import { httpHandler } from '#http/handler.ts';
import { paymentResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...paymentFlowParts(table) };
  return { ...base, ...cipherParts(config), ...channelParts(base) };
});

/** `POST /v1/payments/{id}/close` — closes a PENDING payment (`409 INVALID_STATE` otherwise). */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const { payment, replayed } = await closePayment(
    container,
    merchant,
    request.pathParameters.id ?? '',
    idempotencyKeyOf(request.headers),
  );
  return json(200, paymentResource(payment, container.clock()), replayed ? { 'idempotent-replayed': 'true' } : {});
});
