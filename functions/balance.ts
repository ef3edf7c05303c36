import { cipherParts } from '#adapters/wiring/cipher.ts';
import { tableParts, walletRecords } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { balanceQuerySchema } from '#app/query-schemas.ts';
import { accountIdSchema, parseInput } from '#app/validation.ts';
import { getBalance } from '#app/wallet-queries.ts';
import { httpHandler } from '#http/handler.ts';
import { balanceResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...walletRecords(table) };
  return { ...base, ...cipherParts(config) };
});

/** `GET /v1/accounts/{account_id}/balance?currency=CNY` — an unknown account reads as zero. */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const accountId = parseInput(accountIdSchema, request.pathParameters.account_id);
  const { currency } = parseInput(balanceQuerySchema, request.query);
  return json(200, balanceResource(await getBalance(container, merchant, accountId, currency)));
});
