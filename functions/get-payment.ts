import { cipherParts } from '#adapters/wiring/cipher.ts';
import { paymentRecords, tableParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { journalParts } from '#adapters/wiring/journal.ts';
import { getPayment } from '#app/payment-queries.ts';
import { journalAttemptView } from '#domain/channel-journal.ts';
import { httpHandler } from '#http/handler.ts';
import { paymentResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...paymentRecords(table) };
  return { ...base, ...cipherParts(config), ...journalParts(base) };
});

/**
 * `GET /v1/payments/{id}` — the merchant's payment, with `channel_attempts`: each message exchanged with the channel
 * about it (operation, outcome, HTTP status, latency, error code; never bodies), oldest first.
 */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const payment = await getPayment(container, merchant, request.pathParameters.id ?? '');
  const journal = await container.journal.listByPayment(payment.id);
  return json(200, {
    ...paymentResource(payment, container.clock()),
    channel_attempts: journal.map(journalAttemptView),
  });
});
