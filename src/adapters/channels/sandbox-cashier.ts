import { formatAmount } from '#domain/money.ts';
import { type Payment, visibleStatus } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { signSandboxCallback } from '#domain/signing.ts';
import type { SandboxPaymentRecord, SandboxRefundRecord } from './sandbox-store.ts';

/**
 * The sandbox channel's cashier: the page a payer sees, and the channel side that reports the outcome to the gateway
 * with a signed callback over HTTP — exactly what a real channel does, so the callback path runs for real.
 */
export function renderCheckoutPage(payment: Payment, now: Date): string {
  const status = visibleStatus(payment, now);
  const amount = `${formatAmount(payment.amountMinor, payment.currency)} ${payment.currency}`;
  const actions =
    status === 'PENDING'
      ? `<form method="post">
      <button name="outcome" value="pay" class="pay">Pay ${escapeHtml(amount)}</button>
      <button name="outcome" value="fail" class="fail">Fail</button>
    </form>`
      : `<p class="status">This payment is <strong>${escapeHtml(status)}</strong>.</p>`;
  return page(
    'Sandbox checkout',
    `<p class="subject">${escapeHtml(payment.subject)}</p>
    <p class="amount">${escapeHtml(amount)}</p>
    <dl><dt>Payment</dt><dd>${escapeHtml(payment.id)}</dd><dt>Order</dt><dd>${escapeHtml(payment.orderNo)}</dd>
    <dt>Expires</dt><dd>${escapeHtml(payment.expiresAt)}</dd></dl>
    ${actions}`,
  );
}

/** The page shown when the order was closed at the channel before the payer chose. */
export function renderClosedPage(payment: Payment): string {
  return page(
    'Sandbox checkout',
    `<p class="result">Order ${escapeHtml(payment.orderNo)} is closed and can no longer be paid.</p>`,
  );
}

/** The page shown after the payer chose, with the gateway's answer to the callback. */
export function renderResultPage(payment: Payment, outcome: 'pay' | 'fail', callbackStatus: number): string {
  const accepted = callbackStatus === 200;
  const text = accepted
    ? outcome === 'pay'
      ? 'Payment succeeded.'
      : 'Payment failed.'
    : `The gateway refused the result (HTTP ${callbackStatus}).`;
  const back = payment.returnUrl ? `<p><a href="${escapeHtml(payment.returnUrl)}">Return to the merchant</a></p>` : '';
  return page('Sandbox checkout', `<p class="result">${escapeHtml(text)}</p>${back}`);
}

/** The sandbox refund page: the channel's operator decides whether the refund goes through. */
export function renderRefundPage(refund: Refund, record: SandboxRefundRecord | undefined): string {
  const amount = `${formatAmount(refund.amountMinor, refund.currency)} ${refund.currency}`;
  const actions =
    record?.status === 'PROCESSING'
      ? `<form method="post">
      <button name="outcome" value="succeed" class="pay">Refund ${escapeHtml(amount)}</button>
      <button name="outcome" value="fail" class="fail">Fail</button>
    </form>`
      : `<p class="status">The channel has ${record ? `decided: <strong>${escapeHtml(record.status)}</strong>` : 'no such refund'}.</p>`;
  return page(
    'Sandbox refund',
    `<p class="amount">${escapeHtml(amount)}</p>
    <dl><dt>Refund</dt><dd>${escapeHtml(refund.id)}</dd><dt>Payment</dt><dd>${escapeHtml(refund.paymentId)}</dd></dl>
    ${actions}`,
  );
}

/** The page shown after the refund was decided, with the gateway's answer to the callback. */
export function renderRefundResultPage(outcome: 'succeed' | 'fail', callbackStatus: number | undefined): string {
  const text =
    callbackStatus === undefined
      ? 'This refund was already decided.'
      : callbackStatus === 200
        ? `Refund ${outcome === 'succeed' ? 'succeeded' : 'failed'}.`
        : `The gateway refused the result (HTTP ${callbackStatus}).`;
  return page('Sandbox refund', `<p class="result">${escapeHtml(text)}</p>`);
}

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

function page(title: string, content: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1f2933}
.amount{font-size:2rem;font-weight:600;margin:.5rem 0}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}
dt{color:#616e7c}dd{margin:0;font-family:ui-monospace,monospace;font-size:.85rem}
button{font-size:1rem;padding:.6rem 1.2rem;margin-right:.5rem;border:0;border-radius:.4rem;cursor:pointer}
.pay{background:#0b7a3e;color:#fff}.fail{background:#e4e7eb;color:#1f2933}
</style></head>
<body><h1>${escapeHtml(title)}</h1>${content}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
