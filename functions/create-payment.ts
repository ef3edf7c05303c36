import { channelParts } from '#adapters/wiring/channels.ts';
import { cipherParts } from '#adapters/wiring/cipher.ts';
import { paymentFlowParts, riskParts, tableParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { egressParts } from '#adapters/wiring/notify.ts';
import { createPayment } from '#app/create-payment.ts';
import { idempotencyKeyOf } from '#app/idempotency-key.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler, parseJsonBody } from '#http/handler.ts';
import { paymentResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...paymentFlowParts(table), ...riskParts(table) };
  return { ...base, ...cipherParts(config), ...channelParts(base), ...egressParts(config) };
});

/** `POST /v1/payments` — 201 with the new payment, or 200 + `Idempotent-Replayed: true` for a replay. */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const schema = createPaymentSchema({ allowLoopbackHttp: container.config.allowLoopbackHttp });
  const body = parseInput(schema, parseJsonBody(request));
  const { payment, replayed } = await createPayment(
    container,
    merchant,
    body,
    idempotencyKeyOf(request.headers),
    request.sourceIp,
  );
  const resource = paymentResource(payment, container.clock());
  return replayed ? json(200, resource, { 'idempotent-replayed': 'true' }) : json(201, resource);
});
