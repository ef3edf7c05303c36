import { getPayment } from '#app/payment-queries.ts';
import { httpHandler } from '#http/handler.ts';
import { paymentResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** `GET /v1/payments/{id}` — the merchant's payment. */
export const handler = httpHandler({ auth: true }, async (request, { container, merchant }) => {
  const payment = await getPayment(container, merchant, request.pathParameters.id ?? '');
  return json(200, paymentResource(payment, container.clock()));
});
