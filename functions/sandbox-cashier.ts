import * as z from 'zod';
import { sandboxTradeNo } from '#adapters/channels/sandbox.ts';
import {
  postSandboxCallback,
  renderCheckoutPage,
  renderClosedPage,
  renderRefundPage,
  renderRefundResultPage,
  renderResultPage,
  sandboxCallbackFor,
  sandboxRefundCallbackFor,
} from '#adapters/channels/sandbox-cashier.ts';
import { channelParts } from '#adapters/wiring/channels.ts';
import { dynamoParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { parseInput } from '#app/validation.ts';
import { httpHandler } from '#http/handler.ts';
import type { HttpRequest } from '#http/request.ts';
import { NotFoundError } from '#shared/errors.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const base = dynamoParts(config, db);
  return { ...base, ...channelParts(base) };
});
type Wired = ReturnType<typeof wire>;

const checkoutForm = z.strictObject({ outcome: z.enum(['pay', 'fail']) });
const refundForm = z.strictObject({ outcome: z.enum(['succeed', 'fail']) });
const HTML = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };

/**
 * The sandbox channel's own pages (only when the sandbox channel is enabled):
 * `GET|POST /sandbox/checkout/{payment_id}` — the cashier with Pay / Fail; and
 * `GET|POST /sandbox/refunds/{refund_id}` — the channel operator's Refund / Fail.
 * Each POST makes the sandbox channel send its signed callback to the gateway over HTTP, as a real channel would.
 */
export const handler = httpHandler({ auth: false, wire }, async (request, { container }) => {
  if (!container.channels.has('SANDBOX')) throw new NotFoundError('the sandbox channel is not enabled');
  const body = request.pathParameters.payment_id
    ? await checkout(request, container)
    : await refund(request, container);
  return { statusCode: 200, headers: HTML, body };
});

async function checkout(request: HttpRequest, container: Wired): Promise<string> {
  const payment = await container.payments.get(request.pathParameters.payment_id ?? '');
  if (payment?.channel !== 'SANDBOX') throw new NotFoundError('no such sandbox payment');
  if (request.method === 'GET') return renderCheckoutPage(payment, container.clock());
  const { outcome } = parseInput(checkoutForm, Object.fromEntries(new URLSearchParams(request.body)));
  // The channel decides the order once; a closed (expired) order can no longer be paid, as at a real channel.
  const record = await container.sandboxStore.decidePayment({
    paymentId: payment.id,
    status: outcome === 'pay' ? 'SUCCESS' : 'FAILED',
    amountMinor: payment.amountMinor,
    currency: payment.currency,
    channelTradeNo: sandboxTradeNo(payment.id),
    decidedAt: container.clock().toISOString(),
  });
  if (record.status === 'CLOSED') return renderClosedPage(payment);
  const callback = sandboxCallbackFor(record, await container.sandboxSecret());
  const status = await postSandboxCallback(container.config.publicBaseUrl, callback);
  return renderResultPage(payment, record.status === 'SUCCESS' ? 'pay' : 'fail', status);
}

async function refund(request: HttpRequest, container: Wired): Promise<string> {
  const refundId = request.pathParameters.refund_id ?? '';
  const found = await container.refunds.get(refundId);
  if (found?.channel !== 'SANDBOX') throw new NotFoundError('no such sandbox refund');
  if (request.method === 'GET') return renderRefundPage(found, await container.sandboxStore.getRefund(refundId));
  const { outcome } = parseInput(refundForm, Object.fromEntries(new URLSearchParams(request.body)));
  if (!(await container.sandboxStore.decideRefund(refundId, outcome === 'succeed' ? 'SUCCESS' : 'FAILED'))) {
    return renderRefundResultPage(outcome, undefined);
  }
  const record = await container.sandboxStore.getRefund(refundId);
  if (!record) throw new NotFoundError('no such sandbox refund');
  const callback = sandboxRefundCallbackFor(record, await container.sandboxSecret());
  return renderRefundResultPage(outcome, await postSandboxCallback(container.config.publicBaseUrl, callback));
}
