import { z } from 'zod';
import { getPayment, getPaymentByOrderNo } from '#app/payment-queries.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler } from '#http/handler.ts';
import { paymentResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

const byOrderNo = z.strictObject({ order_no: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'order_no is required') });

/** `GET /v1/payments/{id}` and `GET /v1/payments?order_no=…` — the merchant's payment. */
export const handler = httpHandler({ auth: true }, async (request, { container, merchant }) => {
  const id = request.pathParameters.id;
  const payment = id
    ? await getPayment(container, merchant, id)
    : await getPaymentByOrderNo(container, merchant, parseInput(byOrderNo, request.query).order_no);
  return json(200, paymentResource(payment, container.clock()));
});
