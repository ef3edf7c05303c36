import { z } from 'zod';
import {
  postSandboxCallback,
  renderCheckoutPage,
  renderResultPage,
  sandboxCallbackFor,
} from '#adapters/channels/sandbox-cashier.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler } from '#http/handler.ts';
import { NotFoundError } from '#shared/errors.ts';

const form = z.strictObject({ outcome: z.enum(['pay', 'fail']) });
const HTML = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };

/**
 * `GET /sandbox/checkout/{payment_id}` — the sandbox cashier page with Pay / Fail.
 * `POST` (form `outcome=pay|fail`) — the sandbox channel sends its signed callback to the gateway and shows the result.
 */
export const handler = httpHandler({ auth: false }, async (request, { container }) => {
  const payment = await container.payments.get(request.pathParameters.payment_id ?? '');
  if (!payment || payment.channel !== 'SANDBOX') throw new NotFoundError('no such sandbox payment');
  if (request.method === 'GET') {
    return { statusCode: 200, headers: HTML, body: renderCheckoutPage(payment, container.clock()) };
  }
  const { outcome } = parseInput(form, Object.fromEntries(new URLSearchParams(request.body)));
  const callback = sandboxCallbackFor(payment, outcome, await container.sandboxSecret(), container.clock());
  const status = await postSandboxCallback(container.config.publicBaseUrl, callback);
  return { statusCode: 200, headers: HTML, body: renderResultPage(payment, outcome, status) };
});
