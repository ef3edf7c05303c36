import { listRefunds, refundListQuerySchema } from '#app/listings.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler } from '#http/handler.ts';
import { listResource, refundResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** `GET /v1/refunds?payment_id=…&status=…&limit=…&cursor=…` — a page of the merchant's refunds, newest first. */
export const handler = httpHandler({ auth: true }, async (request, { container, merchant }) => {
  const page = await listRefunds(container, merchant, parseInput(refundListQuerySchema, request.query));
  return json(200, listResource(page, refundResource));
});
