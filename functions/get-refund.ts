import { getRefund } from '#app/refund-queries.ts';
import { httpHandler } from '#http/handler.ts';
import { refundResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** `GET /v1/refunds/{id}` — the merchant's refund, synchronised with the channel while it is processing. */
export const handler = httpHandler({ auth: true }, async (request, { container, merchant }) => {
  return json(200, refundResource(await getRefund(container, merchant, request.pathParameters.id ?? '')));
});
