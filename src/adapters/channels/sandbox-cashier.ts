import { formatAmount } from '#domain/money.ts';
import { signSandboxCallback } from '#domain/signing.ts';
import type { SandboxPaymentRecord, SandboxRefundRecord } from './sandbox-store.ts';

/*
 * The sandbox channel's side of its cashier: the signed callbacks it sends the gateway over HTTP once the payer (or
 * the channel's operator, for a refund) decided — exactly what a real channel does, so the callback path runs for
 * real. The pages themselves are `src/http/cashier-pages.ts`.
 */

/** The sandbox channel's refund callback body and signature. */
export function sandboxRefundCallbackFor(record: SandboxRefundRecord, secret: string) {
  const body = JSON.stringify({
    refund_id: record.refundId,
    status: record.status,
    channel_refund_no: record.channelRefundNo,
  });
  return { body, signature: signSandboxCallback(secret, body) };
}

/** The sandbox channel's callback body and signature for the order's decided outcome. */
export function sandboxCallbackFor(record: SandboxPaymentRecord, secret: string) {
  const body = JSON.stringify({
    payment_id: record.paymentId,
    channel_trade_no: record.channelTradeNo,
    status: record.status,
    amount: formatAmount(record.amountMinor, record.currency),
    currency: record.currency,
    paid_at: record.decidedAt,
  });
  return { body, signature: signSandboxCallback(secret, body) };
}

/** Posts the signed callback to the gateway, as the channel's servers would; returns the HTTP status. */
export async function postSandboxCallback(
  publicBaseUrl: string,
  callback: { body: string; signature: string },
): Promise<number> {
  const response = await fetch(`${publicBaseUrl}/v1/callbacks/sandbox`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sandbox-signature': callback.signature },
    body: callback.body,
    signal: AbortSignal.timeout(10_000),
  });
  await response.arrayBuffer();
  return response.status;
}
