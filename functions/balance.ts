import { z } from 'zod';
import { accountIdSchema, parseInput, supportedCurrencySchema } from '#app/validation.ts';
import { getBalance } from '#app/wallet-queries.ts';
import { httpHandler } from '#http/handler.ts';
import { balanceResource } from '#http/resources.ts';
import { json } from '#http/respond.ts';

const query = z.strictObject({ currency: supportedCurrencySchema.default('CNY') });

/** `GET /v1/accounts/{account_id}/balance?currency=CNY` — an unknown account reads as zero. */
export const handler = httpHandler({ auth: true }, async (request, { container, merchant }) => {
  const accountId = parseInput(accountIdSchema, request.pathParameters.account_id);
  const { currency } = parseInput(query, request.query);
  return json(200, balanceResource(await getBalance(container, merchant, accountId, currency)));
});
