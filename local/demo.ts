import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MerchantClient } from './merchant-client.ts';

/**
 * `npm run demo` (with `npm start` running): the recharge flow a merchant integrates, step by step —
 * create a payment, pay it on the sandbox cashier page, read the payment, the balance and the ledger.
 */
async function main(): Promise<void> {
  const file = resolve(import.meta.dirname, '..', '.local', 'credentials.json');
  if (!existsSync(file)) throw new Error('no .local/credentials.json: start the gateway first with `npm start`');
  const credentials = JSON.parse(readFileSync(file, 'utf8')) as {
    api_base: string;
    merchant_id: string;
    merchant_secret: string;
  };
  const client = new MerchantClient({
    apiBase: credentials.api_base,
    merchantId: credentials.merchant_id,
    merchantSecret: credentials.merchant_secret,
  });
  const accountId = 'user-42';
  const orderNo = `DEMO${Date.now()}`;

  const created = await client.request<Record<string, string>>('POST', '/v1/payments', {
    order_no: orderNo,
    amount: '100.00',
    currency: 'CNY',
    subject: 'Wallet top-up',
    channel: 'SANDBOX',
    method: 'QR',
    account_id: accountId,
  });
  step('1. POST /v1/payments', created.status, created.body);
  if (created.status !== 201) process.exit(1);

  console.log(`\n2. The payer opens ${created.body.pay_url} and presses Pay (done here with a form POST)…`);
  const paid = await fetch(String(created.body.pay_url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'outcome=pay',
  });
  console.log(
    `   cashier answered ${paid.status}; the sandbox channel sent its signed callback to /v1/callbacks/sandbox`,
  );

  const payment = await client.request('GET', `/v1/payments?order_no=${orderNo}`);
  step(`3. GET /v1/payments?order_no=${orderNo}`, payment.status, payment.body);
  const balance = await client.request('GET', `/v1/accounts/${accountId}/balance?currency=CNY`);
  step(`4. GET /v1/accounts/${accountId}/balance`, balance.status, balance.body);
  const ledger = await client.request('GET', `/v1/accounts/${accountId}/ledger?currency=CNY&limit=3`);
  step(`5. GET /v1/accounts/${accountId}/ledger`, ledger.status, ledger.body);
}

function step(title: string, status: number, body: unknown): void {
  console.log(`\n${title} → ${status}\n${JSON.stringify(body, null, 2)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
