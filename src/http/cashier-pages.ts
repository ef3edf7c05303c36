import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import QRCode from 'qrcode';
import { exponentOf, formatAmount } from '#domain/money.ts';
import { type Payment, visibleStatus } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { cspHash, html, htmlResponse, type SafeHtml, trustedHtml } from './html.ts';

/**
 * The sandbox cashier's pages, the ones a payer sees: checkout (merchant, what is paid, the amount in its currency, a
 * QR code for method QR, the expiry in the payer's local time with a countdown, Pay / Fail), the result, an expired
 * or closed payment, an unknown one; and the channel operator's refund pages. Every value is escaped ({@link html});
 * the only inline style and script are these static ones, allowed by hash in the CSP. Built for 320 px and up, with
 * touch targets of at least 48 px, and checked with axe-core in a real browser (test/e2e/cashier-browser.test.ts).
 */

/** What the checkout pages show about a payment. */
export interface CashierView {
  payment: Payment;
  /** The merchant's name, shown to the payer (who should know whom they pay). */
  merchantName: string;
}

type Response = APIGatewayProxyStructuredResultV2;

const STYLE = `*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;background:#f0f2f5}
main{max-width:28rem;margin:0 auto;padding:1rem}
.sandbox{margin:0 0 1rem;padding:.5rem .75rem;border-radius:.5rem;background:#fff3c4;color:#513c06;font-size:.875rem}
.card{background:#fff;border-radius:.75rem;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.15)}
.merchant{margin:0;color:#52606d;font-size:.875rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em}
h1{margin:.25rem 0;font-size:1.375rem;line-height:1.3;overflow-wrap:anywhere}
.description{margin:.25rem 0 0;color:#3e4c59;overflow-wrap:anywhere}
.amount{margin:1rem 0;font-size:2.25rem;font-weight:700;line-height:1.1;overflow-wrap:anywhere}
.amount .code{font-size:1rem;font-weight:600;color:#52606d;margin-left:.375rem}
dl{display:grid;grid-template-columns:auto minmax(0,1fr);gap:.375rem 1rem;margin:1rem 0;font-size:.9375rem}
dt{color:#52606d}dd{margin:0;overflow-wrap:anywhere}
.id{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.8125rem}
.countdown{margin:.25rem 0 0;font-weight:600;color:#8a2c0d}
.qr{margin:1rem 0;text-align:center}.qr svg{display:block;width:100%;max-width:13rem;height:auto;margin:0 auto}
.qr figcaption{margin-top:.5rem;color:#52606d;font-size:.875rem}
.actions{display:flex;flex-direction:column;gap:.75rem;margin-top:1.25rem}
button,.button{display:flex;align-items:center;justify-content:center;width:100%;min-height:3rem;padding:.75rem 1rem;
border:0;border-radius:.5rem;font:inherit;font-weight:600;text-decoration:none;cursor:pointer}
.pay{background:#0b7a3e;color:#fff}.fail{background:#e4e7eb;color:#1f2933}.button{background:#1f4fd1;color:#fff}
button:disabled{background:#cbd2d9;color:#3e4c59;cursor:not-allowed}
button:focus-visible,.button:focus-visible{outline:3px solid #1f4fd1;outline-offset:2px}
.result{display:flex;align-items:center;gap:.5rem}
.badge{display:inline-flex;align-items:center;justify-content:center;flex:none;width:2rem;height:2rem;border-radius:50%;
font-weight:700;color:#fff}.ok{background:#0b7a3e}.bad{background:#b42318}
.note{color:#3e4c59;font-size:.9375rem}`;

/** Shows the expiry in the payer's own time zone and counts down; at zero it disables Pay / Fail. */
const SCRIPT = `(function () {
  var time = document.getElementById('expires');
  var out = document.getElementById('countdown');
  if (!time || !out) return;
  var end = Date.parse(time.getAttribute('datetime'));
  time.textContent = new Date(end).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  function two(n) { return (n < 10 ? '0' : '') + n; }
  function tick() {
    var left = Math.max(0, Math.floor((end - Date.now()) / 1000));
    if (left === 0) {
      out.textContent = 'This payment has expired.';
      var buttons = document.querySelectorAll('form button');
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
      return;
    }
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    out.textContent = 'Expires in ' + (h > 0 ? h + ':' + two(m) : m) + ':' + two(s);
    setTimeout(tick, 1000 - (Date.now() % 1000));
  }
  tick();
})();`;

const SOURCES = { style: cspHash(STYLE), script: cspHash(SCRIPT) };

/** The checkout page of a payment: Pay / Fail while it is payable, else what became of it. */
export async function checkoutPage(view: CashierView, now: Date): Promise<Response> {
  const { payment } = view;
  const status = visibleStatus(payment, now);
  if (status === 'CLOSED') return closedPage(view, Date.parse(payment.expiresAt) <= now.getTime());
  if (status !== 'PENDING') return settledPage(view, status);
  const amount = displayAmount(payment.amountMinor, payment.currency);
  const qr = payment.method === 'QR' && payment.qrCode ? await qrSvg(payment.qrCode, amount, view.merchantName) : '';
  return respond(
    200,
    `Pay ${view.merchantName}`,
    html`${header(view)}
      ${amountLine(payment)}
      ${
        qr &&
        html`<figure class="qr">${trustedHtml(qr)}<figcaption>Scan with your phone to pay, or use the buttons below.</figcaption></figure>`
      }
      <dl>
        <dt>Order</dt><dd class="id">${payment.orderNo}</dd>
        <dt>Payment</dt><dd class="id">${payment.id}</dd>
        <dt>Expires</dt><dd><time id="expires" datetime="${payment.expiresAt}">${utc(payment.expiresAt)}</time>
          <p class="countdown" id="countdown" role="timer"></p></dd>
      </dl>
      <form method="post" class="actions">
        <button name="outcome" value="pay" class="pay">Pay ${amount}</button>
        <button name="outcome" value="fail" class="fail">Fail this payment</button>
      </form>`,
    true,
  );
}

/** After the payer chose: the outcome, with the amount, the order and the way back to the merchant. */
export function resultPage(view: CashierView, outcome: 'pay' | 'fail', callbackStatus: number): Response {
  if (callbackStatus !== 200) {
    return respond(
      502,
      'Payment not completed',
      html`${header(view, 'Payment not completed')}
        <p class="note">The gateway refused the channel's result (HTTP ${callbackStatus}). Nothing was charged.</p>
        ${summary(view)}${returnLink(view)}`,
    );
  }
  return outcome === 'pay' ? settledPage(view, 'SUCCEEDED') : settledPage(view, 'FAILED');
}

/** A payment that can no longer be paid: it expired, or it was closed. HTTP 410. */
export function closedPage(view: CashierView, expired: boolean): Response {
  const title = expired ? 'This payment has expired' : 'This payment is closed';
  return respond(
    410,
    title,
    html`${header(view, title)}
      <p class="note">It can no longer be paid. Nothing was charged; start a new payment at the merchant if you still want to pay.</p>
      ${summary(view)}${returnLink(view)}`,
  );
}

/** No such payment (or no sandbox here): HTTP 404 as a page, not an API error. */
export function notFoundPage(): Response {
  return respond(
    404,
    'Payment not found',
    html`<h1>Payment not found</h1>
      <p class="note">This payment link is wrong or incomplete. Check the address, or go back to the merchant and start the payment again.</p>`,
  );
}

/** The sandbox refund page: the channel's operator decides whether the refund goes through. */
export function refundPage(refund: Refund, channelStatus: string | undefined): Response {
  const amount = displayAmount(refund.amountMinor, refund.currency);
  return respond(
    channelStatus ? 200 : 404,
    'Sandbox refund',
    html`<h1>Sandbox refund</h1>
      <p class="amount">${amount}<span class="code">${refund.currency}</span></p>
      <dl><dt>Refund</dt><dd class="id">${refund.id}</dd><dt>Payment</dt><dd class="id">${refund.paymentId}</dd></dl>
      ${
        channelStatus === 'PROCESSING'
          ? html`<form method="post" class="actions">
              <button name="outcome" value="succeed" class="pay">Refund ${amount}</button>
              <button name="outcome" value="fail" class="fail">Fail this refund</button>
            </form>`
          : html`<p class="note">The channel has ${channelStatus ? html`decided: <strong>${channelStatus}</strong>` : 'no such refund'}.</p>`
      }`,
  );
}

/** After the refund was decided, with the gateway's answer to the callback. */
export function refundResultPage(outcome: 'succeed' | 'fail', callbackStatus: number | undefined): Response {
  const text =
    callbackStatus === undefined
      ? 'This refund was already decided.'
      : callbackStatus === 200
        ? `Refund ${outcome === 'succeed' ? 'succeeded' : 'failed'}.`
        : `The gateway refused the result (HTTP ${callbackStatus}).`;
  return respond(200, 'Sandbox refund', html`<h1>Sandbox refund</h1><p class="note">${text}</p>`);
}

/** The amount as payers read it: the currency's symbol and its digits, e.g. `¥1,234.50` or `$0.99`. */
export function displayAmount(minor: number, currency: string): string {
  const exact = formatAmount(minor, currency);
  try {
    const digits = exponentOf(currency);
    const format = new Intl.NumberFormat('en', {
      style: 'currency',
      currency,
      currencyDisplay: 'narrowSymbol',
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    // A decimal string keeps every digit exact (no float rounding of large amounts), in the currency's own exponent.
    return format.format(exact as unknown as number);
  } catch {
    return `${exact} ${currency}`;
  }
}

function settledPage(view: CashierView, status: Exclude<ReturnType<typeof visibleStatus>, 'PENDING' | 'CLOSED'>) {
  const paid = status !== 'FAILED';
  const title = paid ? 'Payment successful' : 'Payment failed';
  return respond(
    200,
    title,
    html`${header(view, title, paid ? 'ok' : 'bad')}
      <p class="note">${
        paid
          ? `${view.merchantName} has received your payment.`
          : 'The payment did not go through and nothing was charged.'
      }</p>
      ${summary(view)}${returnLink(view)}`,
  );
}

function header(view: CashierView, title?: string, badge?: 'ok' | 'bad'): SafeHtml {
  const { payment } = view;
  const mark = badge && html`<span class="badge ${badge}" aria-hidden="true">${badge === 'ok' ? '✓' : '✕'}</span>`;
  return html`<p class="merchant">${view.merchantName}</p>
    <h1 class="${badge ? 'result' : ''}">${mark}${title ?? payment.subject}</h1>
    ${!title && payment.description && html`<p class="description">${payment.description}</p>`}`;
}

function amountLine(payment: Payment): SafeHtml {
  return html`<p class="amount">${displayAmount(payment.amountMinor, payment.currency)}<span class="code">${payment.currency}</span></p>`;
}

function summary(view: CashierView): SafeHtml {
  const { payment } = view;
  return html`${amountLine(payment)}
    <dl>
      <dt>For</dt><dd>${payment.subject}</dd>
      <dt>Order</dt><dd class="id">${payment.orderNo}</dd>
      <dt>Payment</dt><dd class="id">${payment.id}</dd>
    </dl>`;
}

/** The merchant's return URL as a button; only http(s) URLs become links. */
function returnLink(view: CashierView): SafeHtml | undefined {
  const url = view.payment.returnUrl;
  if (!url || !/^https?:\/\//i.test(url)) return html`<p class="note">You can close this page.</p>`;
  return html`<div class="actions"><a class="button" href="${url}">Return to ${view.merchantName}</a></div>`;
}

/** The expiry as UTC text, until the script shows it in the payer's own time. */
function utc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

async function qrSvg(text: string, amount: string, merchantName: string): Promise<string> {
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  const label = html`QR code to pay ${amount} to ${merchantName}`.text;
  return svg.replace('<svg ', `<svg role="img" aria-label="${label}" `);
}

function respond(status: number, title: string, content: SafeHtml, script = false): Response {
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${title}</title><style>${trustedHtml(STYLE)}</style></head>
<body><main><p class="sandbox">Sandbox checkout: test payments only, no real money moves.</p>
<div class="card">${content}</div></main>${script && html`<script>${trustedHtml(SCRIPT)}</script>`}</body></html>`;
  return htmlResponse(status, page, script ? SOURCES : { style: SOURCES.style });
}
