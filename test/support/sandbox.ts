import { sandboxTradeNo } from '#adapters/channels/sandbox.ts';
import { signSandboxCallback } from '#domain/signing.ts';
import { TEST_SECRETS } from './constants.ts';

/** Posts a sandbox callback signed with the test sandbox secret (or a given signature) to the gateway. */
export async function postSandboxCallback(
  apiBase: string,
  body: Record<string, unknown> | string,
  signature?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${apiBase}/v1/callbacks/sandbox`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-sandbox-signature': signature ?? signSandboxCallback(TEST_SECRETS.sandboxSecret, raw),
    },
    body: raw,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The success callback the sandbox channel sends for a payment. */
export function successCallback(payment: { id: string; amount: string; currency: string }) {
  return {
    payment_id: payment.id,
    channel_trade_no: sandboxTradeNo(payment.id),
    status: 'SUCCESS',
    amount: payment.amount,
    currency: payment.currency,
    paid_at: new Date().toISOString(),
  };
}
