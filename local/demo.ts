import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, type CliSpec, command, localDir, runIfMain } from '../scripts/cli.ts';
import { type ApiResponse, MerchantClient } from './merchant-client.ts';
import { StackNotRunningError } from './stack.ts';

/** The demo merchant of the running local stack (`.local/credentials.json`, written by `npm start`). */
function demoMerchant(): MerchantClient {
  const dir = localDir();
  const file = join(dir, 'credentials.json');
  if (!existsSync(join(dir, 'stack.json')) || !existsSync(file)) throw new StackNotRunningError();
  const credentials = JSON.parse(readFileSync(file, 'utf8')) as {
    api_base: string;
    merchant_id: string;
    merchant_secret: string;
  };
  return new MerchantClient({
    apiBase: credentials.api_base,
    merchantId: credentials.merchant_id,
    merchantSecret: credentials.merchant_secret,
  });
}

/** The body of a successful response; any other status fails the command with the API's error. */
function expectStatus<T>(title: string, response: ApiResponse<T>, status: number): T {
  if (response.status === status) return response.body;
  const error = (response.body as { error?: { code?: string; message?: string } }).error;
  throw new CliError(
    `${title} → ${response.status} ${error?.code ?? ''}: ${error?.message ?? JSON.stringify(response.body)}`,
  );
}

/**
 * `npm run demo` (with `npm start` running): the recharge flow a merchant integrates, step by step — create a payment,
 * pay it on the sandbox cashier page, read the payment, the balance and the ledger. `--unpaid` only creates the
 * payment and prints its cashier URL, to open in a browser.
 */
export const demoCli: CliSpec = {
  name: 'demo',
  summary: `The recharge flow against the running local stack, as the demo merchant: create a payment, pay it on the
sandbox cashier, read the payment, the balance and the ledger. The steps are narrated on stderr; stdout is the JSON
of what was read.`,
  main: command({
    summary: 'the demo',
    usage: '[--unpaid] [--amount 100.00] [--method QR|PAGE|WAP] [--subject TEXT]',
    details: `  --unpaid          only create the payment and print it with its cashier URL (pay_url): open it in a
                    browser to pay or fail it on the sandbox cashier
  --amount AMOUNT   in CNY, major units (default 100.00)
  --method METHOD   QR (default; the cashier shows a QR code), PAGE or WAP
  --subject TEXT    what the payer sees (default "Wallet top-up")`,
    options: {
      unpaid: { type: 'boolean' },
      amount: { type: 'string' },
      method: { type: 'string' },
      subject: { type: 'string' },
    },
    async run(values, { stderr }) {
      const client = demoMerchant();
      const accountId = 'user-42';
      const orderNo = `DEMO${Date.now()}`;
      const say = (line: string) => stderr(`${line}\n`);
      const payment = expectStatus(
        'POST /v1/payments',
        await client.request<Record<string, unknown>>('POST', '/v1/payments', {
          order_no: orderNo,
          amount: values.amount ?? '100.00',
          currency: 'CNY',
          subject: values.subject ?? 'Wallet top-up',
          description: `Top-up of wallet ${accountId}`,
          channel: 'SANDBOX',
          method: (values.method ?? 'QR').toUpperCase(),
          account_id: accountId,
        }),
        201,
      );
      say(`1. POST /v1/payments → 201: payment ${String(payment.id)} for order ${orderNo}`);
      if (values.unpaid) {
        say(`Open the cashier to pay or fail it: ${String(payment.pay_url)}`);
        return payment;
      }
      say(`2. The payer opens ${String(payment.pay_url)} and presses Pay (done here with a form POST)…`);
      const paid = await fetch(String(payment.pay_url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'outcome=pay',
      });
      if (!paid.ok) throw new CliError(`the sandbox cashier answered ${paid.status}`);
      say('   the sandbox channel sent its signed callback to /v1/callbacks/sandbox');
      const read = async (path: string) => {
        const body = expectStatus(`GET ${path}`, await client.request('GET', path), 200);
        say(`   GET ${path} → 200`);
        return body;
      };
      say('3. Reading the payment, the balance and the ledger:');
      return {
        payment: await read(`/v1/payments?order_no=${orderNo}`),
        balance: await read(`/v1/accounts/${accountId}/balance?currency=CNY`),
        ledger: await read(`/v1/accounts/${accountId}/ledger?currency=CNY&limit=3`),
      };
    },
  }),
};

runIfMain(import.meta.filename, demoCli);
