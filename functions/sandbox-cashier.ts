import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { sandboxTradeNo } from '#adapters/channels/sandbox.ts';
import {
  postSandboxCallback,
  sandboxCallbackFor,
  sandboxRefundCallbackFor,
} from '#adapters/channels/sandbox-cashier.ts';
import { channelParts } from '#adapters/wiring/channels.ts';
import { eventRecords, paymentFlowParts, tableParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { parseInput } from '#app/validation.ts';
import { isHeld } from '#domain/risk.ts';
import {
  type CashierView,
  checkoutPage,
  closedPage,
  notFoundPage,
  refundPage,
  refundResultPage,
  resultPage,
} from '#http/cashier-pages.ts';
import { httpHandler } from '#http/handler.ts';
import type { HttpRequest } from '#http/request.ts';
import * as z from '#shared/zod.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...paymentFlowParts(table), ...eventRecords(table) };
  return { ...base, ...channelParts(base) };
});
type Wired = ReturnType<typeof wire>;

const checkoutForm = z.strictObject({ outcome: z.enum(['pay', 'fail']) });
const refundForm = z.strictObject({ outcome: z.enum(['succeed', 'fail']) });

/**
 * The sandbox channel's own pages (only when the sandbox channel is enabled):
 * `GET|POST /sandbox/checkout/{payment_id}` — the cashier with Pay / Fail; and
 * `GET|POST /sandbox/refunds/{refund_id}` — the channel operator's Refund / Fail.
 * Each POST makes the sandbox channel send its signed callback to the gateway over HTTP, as a real channel would.
 * Payers get HTML pages, also for an unknown payment (404) and an expired or closed one (410).
 */
export const handler = httpHandler({ auth: false, wire }, async (request, { container }) => {
  if (!container.channels.has('SANDBOX')) return notFoundPage();
  return request.pathParameters.payment_id ? checkout(request, container) : refund(request, container);
});

async function checkout(request: HttpRequest, container: Wired): Promise<APIGatewayProxyStructuredResultV2> {
  const payment = await container.payments.get(request.pathParameters.payment_id ?? '');
  // A payment held for risk review was never registered at the channel: there is no order here to pay.
  if (payment?.channel !== 'SANDBOX' || isHeld(payment.risk)) return notFoundPage();
  const merchant = await container.merchants.get(payment.merchantId);
  const view: CashierView = { payment, merchantName: merchant?.name ?? payment.merchantId };
  if (request.method === 'GET') return checkoutPage(view, container.clock());
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
  if (record.status === 'CLOSED') return closedPage(view, Date.parse(payment.expiresAt) <= container.clock().getTime());
  const callback = sandboxCallbackFor(record, await container.sandboxSecret());
  const status = await postSandboxCallback(container.config.publicBaseUrl, callback);
  return resultPage(view, record.status === 'SUCCESS' ? 'pay' : 'fail', status);
}

async function refund(request: HttpRequest, container: Wired): Promise<APIGatewayProxyStructuredResultV2> {
  const refundId = request.pathParameters.refund_id ?? '';
  const found = await container.refunds.get(refundId);
  if (found?.channel !== 'SANDBOX') return notFoundPage();
  if (request.method === 'GET') return refundPage(found, (await container.sandboxStore.getRefund(refundId))?.status);
  const { outcome } = parseInput(refundForm, Object.fromEntries(new URLSearchParams(request.body)));
  if (!(await container.sandboxStore.decideRefund(refundId, outcome === 'succeed' ? 'SUCCESS' : 'FAILED'))) {
    return refundResultPage(outcome, undefined);
  }
  const record = await container.sandboxStore.getRefund(refundId);
  if (!record) return notFoundPage();
  const callback = sandboxRefundCallbackFor(record, await container.sandboxSecret());
  return refundResultPage(outcome, await postSandboxCallback(container.config.publicBaseUrl, callback));
}
