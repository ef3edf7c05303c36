import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CURRENCY_EXPONENTS, formatAmount } from '#domain/money.ts';
import type { Payment } from '#domain/payment.ts';
import { checkoutPage, displayAmount, notFoundPage, resultPage } from '#http/cashier-pages.ts';
import { html, trustedHtml } from '#http/html.ts';

const NOW = new Date('2026-12-01T10:00:00.000Z');
const HOSTILE = `"><script>alert(1)</script><a href='javascript:x'>\``;

function payment(overrides: Partial<Payment> = {}): Payment {
  return {
    id: 'pay_1',
    merchantId: 'mch_1',
    orderNo: `ORD-${HOSTILE}`,
    status: 'PENDING',
    amountMinor: 123_456_789_012_345,
    currency: 'CNY',
    subject: `Top-up ${HOSTILE}`,
    description: `Points ${HOSTILE}`,
    channel: 'SANDBOX',
    method: 'QR',
    metadata: {},
    payUrl: 'https://pay.example/sandbox/checkout/pay_1',
    qrCode: 'https://pay.example/sandbox/checkout/pay_1',
    refundedMinor: 0,
    late: false,
    expiresAt: '2026-12-01T10:30:00.000Z',
    createdAt: '2026-12-01T10:00:00.000Z',
    updatedAt: '2026-12-01T10:00:00.000Z',
    requestHash: 'h',
    version: 1,
    ...overrides,
  };
}

describe('html', () => {
  it('escapes every interpolated value and keeps only trusted markup', () => {
    expect(html`<p title="${HOSTILE}">${HOSTILE}${trustedHtml('<b>ok</b>')}${[1, false, undefined]}</p>`.text).toBe(
      '<p title="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#60;a href=&#39;javascript:x&#39;&#62;&#96;">' +
        '&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;&#60;a href=&#39;javascript:x&#39;&#62;&#96;<b>ok</b>1</p>',
    );
  });
});

describe('the cashier pages', () => {
  it('never echo merchant- or payer-supplied markup; the CSP allows exactly the inline style and script', async () => {
    const view = { payment: payment({ returnUrl: 'javascript:alert(1)' }), merchantName: `Shop ${HOSTILE}` };
    for (const response of [
      await checkoutPage(view, NOW),
      resultPage(view, 'pay', 200),
      resultPage(view, 'fail', 200),
      await checkoutPage(view, new Date('2026-12-01T11:00:00.000Z')),
    ]) {
      const body = String(response.body);
      expect(body).not.toContain('<script>alert');
      expect(body).not.toMatch(/href="javascript:|<a href='javascript/);
      expect(body.match(/<script>/g)?.length ?? 0).toBeLessThanOrEqual(1);
      const csp = String(response.headers?.['content-security-policy']);
      for (const [tag, directive] of [
        ['style', 'style-src'],
        ['script', 'script-src'],
      ]) {
        const inline = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(body)?.[1];
        if (!inline) continue;
        const hash = createHash('sha256').update(inline).digest('base64');
        expect(csp).toContain(`${directive} 'sha256-${hash}'`);
      }
      expect(csp).toContain("default-src 'none'");
      expect(response.headers?.['x-content-type-options']).toBe('nosniff');
    }
  });

  it('answer with the status a browser should see', async () => {
    const view = { payment: payment(), merchantName: 'Shop' };
    expect((await checkoutPage(view, NOW)).statusCode).toBe(200);
    expect((await checkoutPage(view, new Date('2026-12-01T10:30:00.000Z'))).statusCode).toBe(410);
    expect((await checkoutPage({ ...view, payment: payment({ status: 'CLOSED' }) }, NOW)).body).toContain(
      'This payment is closed',
    );
    expect((await checkoutPage({ ...view, payment: payment({ status: 'SUCCEEDED' }) }, NOW)).body).toContain(
      'Payment successful',
    );
    expect(resultPage(view, 'pay', 409).statusCode).toBe(502);
    expect(notFoundPage()).toMatchObject({ statusCode: 404, headers: { 'content-type': 'text/html; charset=utf-8' } });
  });

  it('show amounts with the currency symbol and exactly its digits, also beyond float precision', () => {
    expect(displayAmount(123_456_789_012_345, 'CNY')).toBe('¥1,234,567,890,123.45');
    expect(displayAmount(99, 'USD')).toBe('$0.99');
    expect(displayAmount(1_500, 'JPY')).toBe('¥1,500');
    expect(displayAmount(1_234, 'KWD')).toBe('KWD 1.234'.replace(' ', '\u00a0'));
    for (const currency of Object.keys(CURRENCY_EXPONENTS)) {
      expect(displayAmount(1_001, currency).replaceAll(',', ''), currency).toContain(formatAmount(1_001, currency));
    }
  });
});
