import { cipherParts } from '#adapters/wiring/cipher.ts';
import { paymentRecords, tableParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { listRefunds, refundListQuerySchema } from '#app/listings.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler } from '#http/handler.ts';
import { listResource, refundResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...paymentRecords(table) };
  return { ...base, ...cipherParts(config) };
});

/** `GET /v1/refunds?payment_id=…&status=…&limit=…&cursor=…` — a page of the merchant's refunds, newest first. */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const page = await listRefunds(container, merchant, parseInput(refundListQuerySchema, request.query));
  return json(200, listResource(page, refundResource));
});
