import { createRefund } from '#app/create-refund.ts';
import { idempotencyKeyOf } from '#app/idempotency-key.ts';
import { createRefundSchema } from '#app/refund-schemas.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler, parseJsonBody } from '#http/handler.ts';
import { refundResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** `POST /v1/refunds` — 201 with the refund (`PROCESSING`, or final for balance payments), 200 on a replay. */
export const handler = httpHandler({ auth: true }, async (request, { container, merchant }) => {
  const body = parseInput(createRefundSchema, parseJsonBody(request));
  const { refund, replayed } = await createRefund(container, merchant, body, idempotencyKeyOf(request.headers));
  return replayed
    ? json(200, refundResource(refund), { 'idempotent-replayed': 'true' })
    : json(201, refundResource(refund));
});
