import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import axe from 'axe-core';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { keys } from '#adapters/dynamo/keys.ts';
import { createMerchant } from '#app/merchant-admin.ts';
import { MerchantClient } from '../../local/merchant-client.ts';
import { uniqueId } from '../support/fixtures.ts';
import { startHttpStack } from '../support/http-stack.ts';

/**
 * The sandbox cashier in a real headless browser (Debian's chromium through puppeteer-core): open, pay, fail, expire
 * (on the server and by the page's own countdown), an unknown payment, 320 and 390 px wide; axe-core finds no
 * violation on any page; merchant-supplied markup stays text. Screenshots go to test-results/ (git-ignored).
 * Nothing here depends on speed: every wait is for a page state, with generous limits.
 */

const SHOTS = resolve(import.meta.dirname, '..', '..', 'test-results');
const WAIT = { timeout: 120_000 };
const HOSTILE = `<script>alert("xss")</script><img src=x onerror="alert('xss')">`;

type Json = Record<string, unknown>;

let stack: Awaited<ReturnType<typeof startHttpStack>>;
let client: MerchantClient;
let browser: Browser;
const axeSummary: { page: string; violations: number; passes: number }[] = [];

/** Debian's chromium (`apt-get install chromium`; `.ci/run` installs it), or CHROME_PATH. */
function chromiumPath(): string {
  if (process.env.CHROME_PATH) return process.env.CHROME_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    throw new Error('no chromium on PATH: install it (apt-get install -y chromium; .ci/run does) or set CHROME_PATH');
  }
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startHttpStack();
  const id = uniqueId('mch');
  const { secret } = await createMerchant(stack.container, { id, name: `Tea House ${HOSTILE}` });
  client = new MerchantClient({ apiBase: stack.apiBase, merchantId: id, merchantSecret: secret });
  browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--lang=en-US'],
    protocolTimeout: 300_000,
    timeout: 180_000,
  });
}, 300_000);

afterAll(async () => {
  expect(dialogs).toEqual([]);
  await browser?.close();
  writeFileSync(join(SHOTS, 'cashier-axe.json'), `${JSON.stringify(axeSummary, null, 2)}\n`);
  await stack?.stop();
});

async function newPayment(overrides: Json = {}): Promise<Json> {
  const created = await client.request<Json>('POST', '/v1/payments', {
    order_no: `ORD${uniqueId('n').slice(2)}`,
    amount: '1234.50',
    currency: 'CNY',
    subject: `Wallet top-up ${HOSTILE}`,
    description: `500 tea points for account user-42 ${HOSTILE}`,
    channel: 'SANDBOX',
    method: 'QR',
    account_id: 'user-42',
    return_url: 'https://shop.example/orders/return?from=cashier',
    ...overrides,
  });
  expect(created.status).toBe(201);
  return created.body;
}

/** Every script dialog any page opened (an XSS would open one): must stay empty. */
const dialogs: string[] = [];

/** A page in the payer's time zone (Asia/Shanghai) at the given size. */
async function newPage(viewport: { width: number; height: number; mobile?: boolean }): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(120_000);
  page.setDefaultNavigationTimeout(120_000);
  await page.emulateTimezone('Asia/Shanghai');
  await page.setViewport({
    width: viewport.width,
    height: viewport.height,
    isMobile: viewport.mobile ?? false,
    hasTouch: viewport.mobile ?? false,
    deviceScaleFactor: viewport.mobile ? 2 : 1,
  });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return page;
}

/** axe-core over the whole page (WCAG 2.x A/AA and best practices): no violation. */
async function expectAccessible(page: Page, name: string): Promise<void> {
  await page.evaluate(axe.source);
  const tags = JSON.stringify(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']);
  const result = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ${tags} } })`,
  )) as axe.AxeResults;
  axeSummary.push({ page: name, violations: result.violations.length, passes: result.passes.length });
  const violations = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`);
  expect(violations, name).toEqual([]);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `cashier-${name}.png`) as `${string}.png`, fullPage: true });
}

/** Nothing is wider than the viewport, and every button and link is at least 44 × 44 px. */
async function expectFitsAndTappable(page: Page, width: number): Promise<void> {
  const layout = (await page.evaluate(`({
    scrollWidth: document.documentElement.scrollWidth,
    targets: [...document.querySelectorAll('button, a')].map((element) => {
      const box = element.getBoundingClientRect();
      return { text: element.textContent.trim(), width: box.width, height: box.height };
    }),
  })`)) as { scrollWidth: number; targets: { text: string; width: number; height: number }[] };
  expect(layout.scrollWidth, `page width at ${width} px`).toBeLessThanOrEqual(width);
  for (const target of layout.targets) {
    expect(target.height, target.text).toBeGreaterThanOrEqual(44);
    expect(target.width, target.text).toBeGreaterThanOrEqual(44);
  }
}

const text = (page: Page) => page.evaluate('document.body.innerText') as Promise<string>;
const countdown = "document.getElementById('countdown').textContent";

describe('the sandbox cashier in headless Chromium', { timeout: 600_000 }, () => {
  it('shows the merchant, what is paid, the amount in its currency, a QR code and the local expiry; pays', async () => {
    const payment = await newPayment();
    const page = await newPage({ width: 1200, height: 900 });
    const response = await page.goto(String(payment.pay_url), { waitUntil: 'load', ...WAIT });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'none'.*script-src 'sha256-/);
    await page.waitForFunction(`/Expires in \\d/.test(${countdown})`, WAIT);

    const body = await text(page);
    expect(body).toContain(`Tea House ${HOSTILE}`.toUpperCase()); // the merchant line is shown in capitals
    expect(body).toContain(`Wallet top-up ${HOSTILE}`);
    expect(body).toContain(`500 tea points for account user-42 ${HOSTILE}`);
    expect(body).toContain('¥1,234.50');
    expect(body).toContain(String(payment.order_no));
    expect(await page.$$('script')).toHaveLength(1); // only the page's own; the hostile text stayed text
    expect(await page.$$('img')).toHaveLength(0);
    const qr = await page.$eval('figure.qr svg', (svg) => ({
      label: svg.getAttribute('aria-label'),
      paths: svg.querySelectorAll('path').length,
      width: svg.getBoundingClientRect().width,
    }));
    expect(qr.label).toContain('QR code to pay ¥1,234.50');
    expect(qr.paths).toBeGreaterThan(0);
    expect(qr.width).toBeGreaterThan(100);
    // The expiry in the payer's time zone (emulated: Asia/Shanghai, UTC+8), not the UTC fallback.
    const expires = new Date(String(payment.expires_at));
    const local = new Date(expires.getTime() + 8 * 3_600_000);
    const hour12 = local.getUTCHours() % 12 || 12;
    const minutes = String(local.getUTCMinutes()).padStart(2, '0');
    const shown = await page.$eval('#expires', (element) => element.textContent ?? '');
    expect(shown).not.toContain('UTC');
    expect(shown).toContain(`${hour12}:${minutes}`);
    await expectAccessible(page, 'checkout (1200 px)');
    await shot(page, 'checkout-desktop');

    await Promise.all([page.waitForNavigation({ waitUntil: 'load', ...WAIT }), page.click('button.pay')]);
    const result = await text(page);
    expect(result).toContain('Payment successful');
    expect(result).toContain('¥1,234.50');
    expect(result).toContain(String(payment.order_no));
    const back = await page.$eval('a.button', (a) => ({ href: a.getAttribute('href'), text: a.textContent }));
    expect(back).toEqual({
      href: 'https://shop.example/orders/return?from=cashier',
      text: `Return to Tea House ${HOSTILE}`,
    });
    await expectAccessible(page, 'success');
    await shot(page, 'success');
    const read = await client.request<Json>('GET', `/v1/payments/${payment.id}`);
    expect(read.body.status).toBe('SUCCEEDED');

    // Opened again once paid: the success page, not Pay / Fail.
    await page.goto(String(payment.pay_url), { waitUntil: 'load', ...WAIT });
    expect(await text(page)).toContain('Payment successful');
    expect(await page.$$('form button')).toHaveLength(0);
    await page.close();
  });

  it('fails a payment: the failure page has the amount, the order and the way back', async () => {
    const payment = await newPayment({ method: 'PAGE', amount: '0.99' });
    const page = await newPage({ width: 1200, height: 900 });
    await page.goto(String(payment.pay_url), { waitUntil: 'load', ...WAIT });
    expect(await page.$$('figure.qr')).toHaveLength(0); // no QR code for a PAGE payment
    await Promise.all([page.waitForNavigation({ waitUntil: 'load', ...WAIT }), page.click('button.fail')]);
    const result = await text(page);
    expect(result).toContain('Payment failed');
    expect(result).toContain('¥0.99');
    expect(result).toContain(String(payment.order_no));
    expect(await page.$$('a.button')).toHaveLength(1);
    await expectAccessible(page, 'failure');
    await shot(page, 'failure');
    const read = await client.request<Json>('GET', `/v1/payments/${payment.id}`);
    expect(read.body.status).toBe('FAILED');
    await page.close();
  });

  it('fits 320 and 390 px phones with touch targets of at least 44 px', async () => {
    const payment = await newPayment();
    for (const width of [320, 390]) {
      const page = await newPage({ width, height: 844, mobile: true });
      await page.goto(String(payment.pay_url), { waitUntil: 'load', ...WAIT });
      await page.waitForFunction(`/Expires in/.test(${countdown})`, WAIT);
      await expectFitsAndTappable(page, width);
      await expectAccessible(page, `checkout (${width} px)`);
      await shot(page, `checkout-${width}px`);
      await page.close();
    }
  });

  it('an expired payment: the server answers 410 with a page, and the open page counts down to expired', async () => {
    // Expired on the server: its expiry is moved into the past (as the clock would).
    const expired = await newPayment();
    await createDocumentClient().send(
      new UpdateCommand({
        TableName: process.env.TABLE_NAME,
        Key: keys.payment(String(expired.id)),
        UpdateExpression: 'SET expiresAt = :past',
        ExpressionAttributeValues: { ':past': new Date(Date.now() - 60_000).toISOString() },
      }),
    );
    const page = await newPage({ width: 390, height: 844, mobile: true });
    const response = await page.goto(String(expired.pay_url), { waitUntil: 'load', ...WAIT });
    expect(response?.status()).toBe(410);
    const body = await text(page);
    expect(body).toContain('This payment has expired');
    expect(body).toContain(String(expired.order_no));
    expect(await page.$$('form button')).toHaveLength(0);
    await expectFitsAndTappable(page, 390);
    await expectAccessible(page, 'expired (410)');
    await shot(page, 'expired');
    await page.close();

    // Expiring while open: the payer's clock passes the expiry (shifted 2 h ahead), the buttons are disabled.
    const pending = await newPayment();
    const late = await newPage({ width: 390, height: 844, mobile: true });
    await late.evaluateOnNewDocument(() => {
      const now = Date.now;
      Date.now = () => now() + 2 * 3_600_000;
    });
    await late.goto(String(pending.pay_url), { waitUntil: 'load', ...WAIT });
    await late.waitForFunction(`${countdown} === 'This payment has expired.'`, WAIT);
    const disabled = await late.$$eval('form button', (buttons) =>
      buttons.map((button) => button.hasAttribute('disabled')),
    );
    expect(disabled).toEqual([true, true]);
    await expectAccessible(late, 'expired while open');
    await shot(late, 'expired-while-open');
    await late.close();
  });

  it('an unknown payment gets an HTML 404 page, not JSON', async () => {
    const page = await newPage({ width: 320, height: 640, mobile: true });
    const response = await page.goto(`${stack.apiBase}/sandbox/checkout/pay_doesnotexist`, {
      waitUntil: 'load',
      ...WAIT,
    });
    expect(response?.status()).toBe(404);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    expect(await text(page)).toContain('Payment not found');
    await expectFitsAndTappable(page, 320);
    await expectAccessible(page, 'not found (404)');
    await shot(page, 'not-found');
    await page.close();
  });
});
