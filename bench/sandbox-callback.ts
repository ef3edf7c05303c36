import { signSandboxCallback } from '#domain/signing.ts';

/** What the sandbox channel reports for a paid payment. */
export interface PaidPayment {
  id: string;
  amount: string;
  currency: string;
}

/** The gateway's answer to a callback: HTTP status and (parsed) body. */
export interface CallbackAnswer {
  status: number;
  body: unknown;
}

/**
 * Posts the sandbox channel's `SUCCESS` callback for a payment, signed as the channel signs it:
 * `X-Sandbox-Signature` = hex HMAC-SHA256(sandbox secret, raw body). Returns the HTTP status and body.
 */
export function postSandboxSuccess(
  apiBase: string,
  sandboxSecret: string,
  payment: PaidPayment,
): Promise<CallbackAnswer> {
  return postSigned(apiBase, sandboxSecret, {
    payment_id: payment.id,
    channel_trade_no: `sbx_${payment.id.slice(4, 20)}`,
    status: 'SUCCESS',
    amount: payment.amount,
    currency: payment.currency,
    paid_at: new Date().toISOString(),
  });
}

/**
 * Posts the sandbox channel's refund result, `{"refund_id": "ref_…", "status": "SUCCESS"|"FAILED"}`, signed like
 * every sandbox callback, to the same endpoint. Returns the HTTP status and body.
 */
export function postSandboxRefundResult(
  apiBase: string,
  sandboxSecret: string,
  refund: { id: string; status: 'SUCCESS' | 'FAILED' },
): Promise<CallbackAnswer> {
  return postSigned(apiBase, sandboxSecret, { refund_id: refund.id, status: refund.status });
}

async function postSigned(apiBase: string, sandboxSecret: string, body: Record<string, unknown>) {
  const raw = JSON.stringify(body);
  const response = await fetch(`${apiBase}/v1/callbacks/sandbox`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sandbox-signature': signSandboxCallback(sandboxSecret, raw) },
    body: raw,
  });
  return { status: response.status, body: parseBody(await response.text()) };
}

function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return text;
  }
}
