import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxTradeNo } from '#adapters/channels/sandbox.ts';
import type { Container } from '#adapters/container.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { applyRefundResult } from '#app/apply-refund-result.ts';
import { createPayment } from '#app/create-payment.ts';
import { createRefund } from '#app/create-refund.ts';
import { createMerchant } from '#app/merchant-admin.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { reconcileDay } from '#app/reconcile.ts';
import { parseInput } from '#app/validation.ts';
import { billKey, reportKey } from '#domain/buckets.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import { MerchantClient } from '../../local/merchant-client.ts';
import { type BillRecord, sandboxBill, utf8 } from '../support/bills.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';
import { startHttpStack } from '../support/http-stack.ts';

/** A channel-day no other test uses: the buckets are shared, and keys are per channel-day. */
function uniqueDate(): string {
  return new Date(Date.UTC(2300 + randomInt(600), 0, 1 + randomInt(365))).toISOString().slice(0, 10);
}

const at = (date: string, second: number) => new Date(Date.parse(`${date}T00:00:00Z`) + second * 1000).toISOString();

async function pendingPayment(container: Container, merchant: Merchant, amount: string, accountId?: string) {
  const body = parseInput(createPaymentSchema({ allowLoopbackHttp: false }), {
    order_no: uniqueId('O'),
    amount,
    subject: 'recon',
    channel: 'SANDBOX',
    ...(accountId ? { account_id: accountId } : {}),
  });
  const { payment } = (await createPayment(container, merchant, body)) as unknown as { payment: Payment };
  return payment;
}

/** Pays a payment at the sandbox channel at `paidAt`; `apply` also records it in the gateway (a normal callback). */
async function payAtChannel(container: Container, payment: Payment, paidAt: string, apply: boolean) {
  await container.sandboxStore.decidePayment({
    paymentId: payment.id,
    status: 'SUCCESS',
    amountMinor: payment.amountMinor,
    currency: payment.currency,
    channelTradeNo: sandboxTradeNo(payment.id),
    decidedAt: paidAt,
  });
  if (!apply) return;
  const channel = container.channels.get('SANDBOX');
  const result = channel && (await channel.queryPayment(payment));
  if (!result) throw new Error('the sandbox should report the payment');
  await applyPaymentResult(container, result, 'SANDBOX');
}

function line(payment: Payment, occurredAt: string, overrides: Partial<BillRecord> = {}): BillRecord {
  return {
    kind: 'PAYMENT',
    gatewayId: payment.id,
    paymentId: payment.id,
    channelTradeNo: sandboxTradeNo(payment.id),
    amountMinor: payment.amountMinor,
    feeMinor: 6,
    status: 'SUCCESS',
    occurredAt,
    subject: 'recon',
    ...overrides,
  };
}

async function readText(container: Container, key: string): Promise<string> {
  const response = await fetch(await container.files.presignReport(key));
  expect(response.status).toBe(200);
  return response.text();
}

describe('reconcileDay (DynamoDB Local + s3rver)', () => {
  const container = testContainer();
  let merchant: Merchant;

  beforeAll(async () => {
    merchant = (await newMerchant(container)).merchant;
  });

  it('classifies and counts every class, repairs a dropped order exactly once, and re-runs idempotently', async () => {
    const date = uniqueDate();
    const accountId = uniqueId('acct');
    const matched = await pendingPayment(container, merchant, '10.00');
    const amountMismatch = await pendingPayment(container, merchant, '20.00');
    const statusMismatch = await pendingPayment(container, merchant, '30.00');
    const localOnly = await pendingPayment(container, merchant, '40.00');
    const dropped = await pendingPayment(container, merchant, '50.00', accountId);
    for (const [i, payment] of [matched, amountMismatch, statusMismatch, localOnly].entries()) {
      await payAtChannel(container, payment, at(date, 100 + i), true);
    }
    await payAtChannel(container, dropped, at(date, 200), false);
    const bill: BillRecord[] = [
      line(matched, at(date, 100)),
      line(amountMismatch, at(date, 101), { amountMinor: 2001 }),
      line(statusMismatch, at(date, 102), { status: 'CLOSED' }),
      line(dropped, at(date, 200)),
      line(matched, at(date, 300), { gatewayId: `pay_${uniqueId('ghost')}` }),
    ];
    await container.files.putBill(billKey('SANDBOX', date), sandboxBill(bill));

    const first = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(first.status).toBe('COMPLETED');
    expect(first).toMatchObject({ lines: 5, errors: 0, problems: [] });
    expect(first.summary).toEqual({
      matched: 1,
      amount_mismatch: 1,
      status_mismatch: 1,
      local_only: 1,
      channel_only: 2,
      repaired: 1,
      local_total: '100.00', // 10 + 20 + 30 + 40 settled locally before the repair
      channel_total: '90.01', // 10 + 20.01 + 50 + 10 (the ghost); the CLOSED line settled nothing
      fee_total: '0.30',
    });
    const repaired = await container.payments.get(dropped.id);
    expect(repaired?.status).toBe('SUCCEEDED');
    const wallet = await container.wallets.get(merchant.id, accountId, 'CNY');
    expect(wallet.availableMinor).toBe(5000);

    const csv = await readText(container, reportKey(date, 'SANDBOX', 'differences.csv'));
    const rows = csv.trim().split('\n');
    expect(rows).toHaveLength(1 + 5);
    expect(
      rows
        .slice(1)
        .map((row) => row.split(',')[0])
        .sort(),
    ).toEqual(['AMOUNT_MISMATCH', 'CHANNEL_ONLY', 'CHANNEL_ONLY', 'LOCAL_ONLY', 'STATUS_MISMATCH']);
    const summaryJson = JSON.parse(await readText(container, reportKey(date, 'SANDBOX', 'summary.json')));
    expect(summaryJson).toMatchObject({ object: 'reconciliation', status: 'COMPLETED', summary: first.summary });

    const second = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(second.summary).toMatchObject({ matched: 2, channel_only: 1, repaired: 0, local_total: '150.00' });
    const third = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(third.summary).toEqual(second.summary);
    expect((await container.wallets.get(merchant.id, accountId, 'CNY')).availableMinor).toBe(5000);
    expect((await container.reconciliations.getSummary(date, 'SANDBOX'))?.status).toBe('COMPLETED');
  });

  it('ignores refunds to a wallet: never LOCAL_ONLY (they never reach the channel or its bill)', async () => {
    const date = uniqueDate();
    const sameDay = testContainer({ clock: () => new Date(at(date, 500)) });
    const purchase = await pendingPayment(sameDay, merchant, '10.00');
    const other = await pendingPayment(sameDay, merchant, '20.00');
    await payAtChannel(sameDay, purchase, at(date, 100), true);
    await payAtChannel(sameDay, other, at(date, 101), true);
    const toWallet = await createRefund(sameDay, merchant, {
      payment_id: purchase.id,
      refund_no: uniqueId('W'),
      amount: '4.00',
      destination: 'BALANCE',
      account_id: uniqueId('payer'),
    });
    expect(toWallet.refund).toMatchObject({ status: 'SUCCEEDED', completedAt: at(date, 500) });
    // The control: a channel refund completed the same day that the bill misses IS reported.
    const viaChannel = await createRefund(sameDay, merchant, {
      payment_id: other.id,
      refund_no: uniqueId('R'),
      amount: '5.00',
    });
    await applyRefundResult(sameDay, { refundId: viaChannel.refund.id, status: 'SUCCEEDED' }, 'SANDBOX');
    await sameDay.files.putBill(
      billKey('SANDBOX', date),
      sandboxBill([line(purchase, at(date, 100)), line(other, at(date, 101))]),
    );

    const run = await reconcileDay(sameDay, { channel: 'SANDBOX', date });

    expect(run.summary).toMatchObject({ matched: 2, local_only: 1, channel_only: 0 });
    const csv = await readText(sameDay, reportKey(date, 'SANDBOX', 'differences.csv'));
    expect(csv).toContain(viaChannel.refund.id);
    expect(csv).not.toContain(toWallet.refund.id);
  });

  it('reports MISSING_BILL when there is no bill', async () => {
    const date = uniqueDate();
    const record = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(record).toMatchObject({ status: 'MISSING_BILL', details: { reason: 'NO_BILL' } });
    expect((await container.reconciliations.getSummary(date, 'SANDBOX'))?.status).toBe('MISSING_BILL');
    const summaryJson = JSON.parse(await readText(container, reportKey(date, 'SANDBOX', 'summary.json')));
    expect(summaryJson).toMatchObject({ status: 'MISSING_BILL', details: { reason: 'NO_BILL' } });
  });

  it('reports a malformed line with its line number and goes on', async () => {
    const date = uniqueDate();
    const payment = await pendingPayment(container, merchant, '12.34');
    await payAtChannel(container, payment, at(date, 10), true);
    const good = new TextDecoder().decode(sandboxBill([line(payment, at(date, 10))]));
    const [header, row, trailer] = good.trim().split('\n');
    const text = `${header}\n${row}\nnot,a,valid,line\n${trailer?.replace('#total,1,', '#total,2,')}\n`;
    await container.files.putBill(billKey('SANDBOX', date), utf8(text));
    const record = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(record.status).toBe('COMPLETED');
    expect(record).toMatchObject({ lines: 1, errors: 1 });
    expect(record.summary.matched).toBe(1);
    expect(record.problems[0]?.message).toMatch(/^line 3: /);
    const csv = await readText(container, reportKey(date, 'SANDBOX', 'differences.csv'));
    expect(csv.trim().split('\n')[1]).toMatch(/^ERROR,MALFORMED_LINE,false,,,3,/);
  });

  it('rejects a bill of another day: MISSING_BILL (WRONG_BILL), nothing repaired', async () => {
    const date = uniqueDate();
    const payment = await pendingPayment(container, merchant, '7.00');
    const otherDay = new Date(Date.parse(`${date}T00:00:00Z`) + 3 * 86_400_000).toISOString().slice(0, 10);
    await payAtChannel(container, payment, at(otherDay, 5), false);
    await container.files.putBill(billKey('SANDBOX', date), sandboxBill([line(payment, at(otherDay, 5))]));
    const record = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(record).toMatchObject({ status: 'MISSING_BILL', details: { reason: 'WRONG_BILL' } });
    expect(record.problems.map((problem) => problem.code)).toContain('WRONG_DATE');
    expect(record.summary.repaired).toBe(0);
    expect((await container.payments.get(payment.id))?.status).toBe('PENDING');
  });
});

describe('GET /v1/reconciliations/{date} over HTTP', () => {
  const financeId = uniqueId('mch');
  let stack: Awaited<ReturnType<typeof startHttpStack>>;
  let finance: MerchantClient;

  beforeAll(async () => {
    process.env.FINANCE_MERCHANT_IDS = `someone_else, ${financeId}`;
    stack = await startHttpStack();
    const { secret } = await createMerchant(stack.container, { id: financeId, name: 'Finance' });
    finance = new MerchantClient({ apiBase: stack.apiBase, merchantId: financeId, merchantSecret: secret });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('gives a finance merchant the summary and a presigned URL that downloads; 404 for anyone else', async () => {
    const date = uniqueDate();
    await stack.container.files.putBill(billKey('SANDBOX', date), sandboxBill([]));
    const record = await reconcileDay(stack.container, { channel: 'SANDBOX', date });

    const response = await finance.request('GET', `/v1/reconciliations/${date}?channel=SANDBOX`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      object: 'reconciliation',
      date,
      channel: 'SANDBOX',
      status: 'COMPLETED',
      summary: record.summary,
    });
    const download = await fetch(String(response.body.report_url));
    expect(download.status).toBe(200);
    expect((await download.text()).startsWith('class,reason,')).toBe(true);

    const never = await finance.request('GET', `/v1/reconciliations/${uniqueDate()}?channel=SANDBOX`);
    expect(never.status).toBe(404);
    const invalid = await finance.request('GET', `/v1/reconciliations/2024-02-30?channel=SANDBOX`);
    expect(invalid.status).toBe(400);
    const badChannel = await finance.request('GET', `/v1/reconciliations/${date}?channel=BALANCE`);
    expect(badChannel.status).toBe(400);

    const { client } = await stack.newClient();
    const other = await client.request('GET', `/v1/reconciliations/${date}?channel=SANDBOX`);
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
