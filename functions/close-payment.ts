import { closePayment } from '#app/close-payment.ts';
import { idempotencyKeyOf } from '#app/idempotency-key.ts';
import { httpHandler } from '#http/handler.ts';
import { paymentResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** `POST /v1/payments/{id}/close` — closes a PENDING payment (`409 INVALID_STATE` otherwise). */
export const handler = httpHandler({ auth: true }, async (request, { container, merchant }) => {
  const { payment, replayed } = await closePayment(
    container,
    merchant,
    request.pathParameters.id ?? '',
    idempotencyKeyOf(request.headers),
  );
  return json(200, paymentResource(payment, container.clock()), replayed ? { 'idempotent-replayed': 'true' } : {});
});
