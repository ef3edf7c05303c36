import { cipherParts } from '#adapters/wiring/cipher.ts';
import { paymentRecords, tableParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { listPayments, paymentListQuerySchema } from '#app/listings.ts';
import { getPaymentByOrderNo } from '#app/payment-queries.ts';
import { paymentByOrderNoQuerySchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler } from '#http/handler.ts';
import { listResource, paymentResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...paymentRecords(table) };
  return { ...base, ...cipherParts(config) };
});

/** `GET /v1/payments?order_no=…` — that payment; `GET /v1/payments?status=…&limit=…&cursor=…` — a page, newest first. */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const now = container.clock();
  if (request.query.order_no !== undefined) {
    const { order_no } = parseInput(paymentByOrderNoQuerySchema, request.query);
    return json(200, paymentResource(await getPaymentByOrderNo(container, merchant, order_no), now));
  }
  const page = await listPayments(container, merchant, parseInput(paymentListQuerySchema, request.query));
  return json(
    200,
    listResource(page, (payment) => paymentResource(payment, now)),
  );
});
