import { cipherParts } from '#adapters/wiring/cipher.ts';
import { tableParts, walletRecords } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { ledgerQuerySchema } from '#app/query-schemas.ts';
import { accountIdSchema, parseInput } from '#app/validation.ts';
import { listLedger } from '#app/wallet-queries.ts';
import { httpHandler } from '#http/handler.ts';
import { ledgerResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...walletRecords(table) };
  return { ...base, ...cipherParts(config) };
});

/** `GET /v1/accounts/{account_id}/ledger?currency=CNY&limit=50&cursor=…` — immutable entries, newest first. */
export const handler = httpHandler({ auth: true, wire }, async (request, { container, merchant }) => {
  const accountId = parseInput(accountIdSchema, request.pathParameters.account_id);
  const { currency, limit, cursor } = parseInput(ledgerQuerySchema, request.query);
  const page = await listLedger(container, merchant, { accountId, currency, limit, before: cursor });
  return json(200, {
    object: 'list',
    data: page.entries.map(ledgerResource),
    has_more: page.nextBefore !== undefined,
    next_cursor: page.nextBefore?.join('.') ?? null,
  });
});
