import { channelParts } from '#adapters/wiring/channels.ts';
import { cipherParts } from '#adapters/wiring/cipher.ts';
import { paymentFlowParts, tableParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { createRefund } from '#app/create-refund.ts';
import { idempotencyKeyOf } from '#app/idempotency-key.ts';
import { createRefundSchema } from '#app/refund-schemas.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler, parseJsonBody } from '#http/handler.ts';
import { refundResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...paymentFlowParts(table) };
  return { ...base, ...cipherParts(config), ...channelParts(base) };
});

/** `POST /v1/refunds` — 201 with the refund (`PROCESSING`, or final for balance payments), 200 on a replay. */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const body = parseInput(createRefundSchema, parseJsonBody(request));
  const { refund, replayed } = await createRefund(container, merchant, body, idempotencyKeyOf(request.headers));
  return replayed
    ? json(200, refundResource(refund), { 'idempotent-replayed': 'true' })
    : json(201, refundResource(refund));
});
