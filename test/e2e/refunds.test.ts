// Over 250 lines: every refund path over HTTP (partial, full, racing, balance, recharge TCC) on one stack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MerchantClient } from '../../local/merchant-client.ts';
import { startHttpStack } from '../support/http-stack.ts';
import { postSandboxCallback, successCallback } from '../support/sandbox.ts';

type Json = Record<string, unknown>;
type ErrorBody = { error: { code: string } };

let stack: Awaited<ReturnType<typeof startHttpStack>>;
let client: MerchantClient;

beforeAll(async () => {
  stack = await startHttpStack();
  ({ client } = await stack.newClient());
});
afterAll(() => stack.stop());

const unique = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 12)}`;

/** A paid recharge of `amount` into a fresh account. */
async function paidRecharge(amount = '100.00') {
  const accountId = unique('user-');
  const created = await client.request<Json>('POST', '/v1/payments', {
    order_no: unique('ORD'),
    amount,
    subject: 'top-up',
    channel: 'SANDBOX',
    account_id: accountId,
  });
  expect(created.status).toBe(201);
  const callback = await postSandboxCallback(stack.apiBase, successCallback(created.body as never));
  expect(callback.status).toBe(200);
  return { paymentId: String(created.body.id), accountId };
}

const refund = (paymentId: string, amount: string, refundNo = unique('R'), headers: Record<string, string> = {}) =>
  client.request<Json & ErrorBody>(
    'POST',
    '/v1/refunds',
    { payment_id: paymentId, refund_no: refundNo, amount },
    { headers },
  );

const refundResult = (refundId: string, status: 'SUCCESS' | 'FAILED') =>
  postSandboxCallback(stack.apiBase, { refund_id: refundId, status });

const balanceOf = async (accountId: string) =>
  (await client.request<Json>('GET', `/v1/accounts/${accountId}/balance`)).body;

describe('refunds of a recharge (TCC over the sandbox channel)', () => {
  it('freezes on Try, deducts on the channel success, and moves the payment to PARTIALLY_REFUNDED then REFUNDED', async () => {
    const { paymentId, accountId } = await paidRecharge('100.00');
    const first = await refund(paymentId, '30.00');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      object: 'refund',
      status: 'PROCESSING',
      amount: '30.00',
      payment_id: paymentId,
    });
    expect(await balanceOf(accountId)).toMatchObject({ available: '70.00', frozen: '30.00' });

    expect((await refundResult(String(first.body.id), 'SUCCESS')).status).toBe(200);
    expect(await balanceOf(accountId)).toMatchObject({ available: '70.00', frozen: '0.00' });
    const partially = await client.request<Json>('GET', `/v1/payments/${paymentId}`);
    expect(partially.body).toMatchObject({ status: 'PARTIALLY_REFUNDED', refunded_amount: '30.00' });
    const settled = await client.request<Json>('GET', `/v1/refunds/${first.body.id}`);
    expect(settled.body).toMatchObject({ status: 'SUCCEEDED' });
    expect(settled.body.completed_at).toMatch(/Z$/);

    const rest = await refund(paymentId, '70.00');
    await refundResult(String(rest.body.id), 'SUCCESS');
    const refunded = await client.request<Json>('GET', `/v1/payments/${paymentId}`);
    expect(refunded.body).toMatchObject({ status: 'REFUNDED', refunded_amount: '100.00' });
    expect(await balanceOf(accountId)).toMatchObject({ available: '0.00', frozen: '0.00' });

    const ledger = await client.request<{ data: Json[] }>('GET', `/v1/accounts/${accountId}/ledger`);
    expect(ledger.body.data.map((entry) => entry.type)).toEqual([
      'REFUND_DEDUCT',
      'REFUND_FREEZE',
      'REFUND_DEDUCT',
      'REFUND_FREEZE',
      'RECHARGE',
    ]);
  });

  it('unfreezes on the channel failure and lets the amount be refunded again', async () => {
    const { paymentId, accountId } = await paidRecharge('50.00');
    const failed = await refund(paymentId, '50.00');
    expect(await balanceOf(accountId)).toMatchObject({ available: '0.00', frozen: '50.00' });
    await refundResult(String(failed.body.id), 'FAILED');
    expect(await balanceOf(accountId)).toMatchObject({ available: '50.00', frozen: '0.00' });
    const payment = await client.request<Json>('GET', `/v1/payments/${paymentId}`);
    expect(payment.body).toMatchObject({ status: 'SUCCEEDED', refunded_amount: '0.00' });
    expect((await refund(paymentId, '50.00')).status).toBe(201);
  });

  it('applies a refund result once, however often it is repeated, and ignores a contradicting late result', async () => {
    const { paymentId, accountId } = await paidRecharge('20.00');
    const created = await refund(paymentId, '20.00');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => refundResult(String(created.body.id), 'SUCCESS')),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    await refundResult(String(created.body.id), 'FAILED');
    expect(await balanceOf(accountId)).toMatchObject({ available: '0.00', frozen: '0.00' });
    const ledger = await client.request<{ data: Json[] }>('GET', `/v1/accounts/${accountId}/ledger`);
    expect(ledger.body.data.filter((entry) => entry.type === 'REFUND_DEDUCT')).toHaveLength(1);
  });

  it('settles a processing refund by querying the channel when the callback never came', async () => {
    const { paymentId, accountId } = await paidRecharge('10.00');
    const created = await refund(paymentId, '10.00');
    // The channel's operator decides on the sandbox refund page; its callback reaches the gateway.
    const page = await fetch(`${stack.apiBase}/sandbox/refunds/${created.body.id}`);
    expect(await page.text()).toContain('value="succeed"');
    await stack.container.sandboxStore.decideRefund(String(created.body.id), 'SUCCESS'); // decided, callback lost
    const queried = await client.request<Json>('GET', `/v1/refunds/${created.body.id}`);
    expect(queried.body.status).toBe('SUCCEEDED');
    expect(await balanceOf(accountId)).toMatchObject({ available: '0.00', frozen: '0.00' });
  });

  it('completes a refund decided on the sandbox refund page', async () => {
    const { paymentId, accountId } = await paidRecharge('10.00');
    const created = await refund(paymentId, '4.00');
    const decided = await fetch(`${stack.apiBase}/sandbox/refunds/${created.body.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=succeed',
    });
    expect(await decided.text()).toContain('Refund succeeded.');
    expect(await balanceOf(accountId)).toMatchObject({ available: '6.00', frozen: '0.00' });
  });
});

describe('refund rules', () => {
  it('rejects a refund above what is left with 409 REFUND_EXCEEDS_PAYMENT and changes nothing', async () => {
    const { paymentId, accountId } = await paidRecharge('10.00');
    await refund(paymentId, '6.00');
    const over = await refund(paymentId, '4.01');
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('REFUND_EXCEEDS_PAYMENT');
    expect(await balanceOf(accountId)).toMatchObject({ available: '4.00', frozen: '6.00' });
  });

  it('rejects refunding a pending payment with 409 INVALID_STATE', async () => {
    const created = await client.request<Json>('POST', '/v1/payments', {
      order_no: unique('ORD'),
      amount: '1.00',
      subject: 'x',
      channel: 'SANDBOX',
    });
    const answer = await refund(String(created.body.id), '1.00');
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('INVALID_STATE');
  });

  it('rejects a refund the wallet can no longer cover with 409 INSUFFICIENT_BALANCE', async () => {
    const { paymentId, accountId } = await paidRecharge('10.00');
    const spent = await client.request<Json>('POST', '/v1/payments', {
      order_no: unique('SPEND'),
      amount: '8.00',
      subject: 'spend',
      channel: 'BALANCE',
      payer_account_id: accountId,
    });
    expect(spent.status).toBe(201);
    const answer = await refund(paymentId, '5.00');
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('INSUFFICIENT_BALANCE');
    expect(await balanceOf(accountId)).toMatchObject({ available: '2.00', frozen: '0.00' });
  });

  it('rejects a bad amount with AMOUNT_INVALID and another merchant’s payment with 404', async () => {
    const { paymentId } = await paidRecharge('10.00');
    expect((await refund(paymentId, '1.001')).body.error.code).toBe('AMOUNT_INVALID');
    expect((await refund(paymentId, '0')).body.error.code).toBe('AMOUNT_INVALID');
    const { client: stranger } = await stack.newClient();
    const foreign = await stranger.request<ErrorBody>('POST', '/v1/refunds', {
      payment_id: paymentId,
      refund_no: 'R1',
      amount: '1.00',
    });
    expect(foreign.status).toBe(404);
  });

  it('replays an identical refund by refund_no and Idempotency-Key, and rejects a changed one', async () => {
    const { paymentId, accountId } = await paidRecharge('10.00');
    const refundNo = unique('R');
    const key = unique('key-');
    const first = await refund(paymentId, '3.00', refundNo, { 'idempotency-key': key });
    const again = await refund(paymentId, '3.00', refundNo, { 'idempotency-key': key });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const changed = await refund(paymentId, '4.00', refundNo);
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
    expect(await balanceOf(accountId)).toMatchObject({ available: '7.00', frozen: '3.00' });
  });

  it('never over-refunds when 20 different refunds race for one payment', async () => {
    const { paymentId, accountId } = await paidRecharge('100.00');
    // Each merchant retries what the contract calls retryable (409 REQUEST_IN_PROGRESS: a lost race under load) with
    // the same refund_no, as a real integration would; a retry that finds its refund committed is replayed as 200.
    const settled = async () => {
      const refundNo = unique('R');
      let answer = await refund(paymentId, '7.00', refundNo);
      for (let retry = 0; retry < 20 && answer.body.error?.code === 'REQUEST_IN_PROGRESS'; retry++)
        answer = await refund(paymentId, '7.00', refundNo);
      return answer;
    };
    const answers = await Promise.all(Array.from({ length: 20 }, settled));
    const accepted = answers.filter((answer) => answer.status === 201 || answer.status === 200);
    const rejected = answers.filter((answer) => answer.status === 409);
    expect(accepted).toHaveLength(14); // 14 × 7.00 = 98.00 ≤ 100.00 < 15 × 7.00
    expect(rejected.map((answer) => answer.body.error.code)).toEqual(Array(6).fill('REFUND_EXCEEDS_PAYMENT'));
    expect(accepted.length + rejected.length).toBe(20);
    expect(await balanceOf(accountId)).toMatchObject({ available: '2.00', frozen: '98.00' });
    await Promise.all(accepted.map((answer) => refundResult(String(answer.body.id), 'SUCCESS')));
    const payment = await client.request<Json>('GET', `/v1/payments/${paymentId}`);
    expect(payment.body).toMatchObject({ status: 'PARTIALLY_REFUNDED', refunded_amount: '98.00' });
  });
});

describe('balance payments', () => {
  it('pays from the wallet synchronously and refunds back to the payer', async () => {
    const { accountId } = await paidRecharge('50.00');
    const paid = await client.request<Json>('POST', '/v1/payments', {
      order_no: unique('BAL'),
      amount: '20.00',
      subject: 'in-app purchase',
      channel: 'BALANCE',
      payer_account_id: accountId,
    });
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ status: 'SUCCEEDED', channel: 'BALANCE', method: 'BALANCE', pay_url: null });
    expect(await balanceOf(accountId)).toMatchObject({ available: '30.00' });

    const refunded = await refund(String(paid.body.id), '20.00');
    expect(refunded.status).toBe(201);
    expect(refunded.body.status).toBe('SUCCEEDED');
    expect(await balanceOf(accountId)).toMatchObject({ available: '50.00', frozen: '0.00' });
    const ledger = await client.request<{ data: Json[] }>('GET', `/v1/accounts/${accountId}/ledger`);
    expect(ledger.body.data.map((entry) => entry.type)).toEqual(['REFUND', 'PAYMENT', 'RECHARGE']);
  });

  it('answers 402 INSUFFICIENT_BALANCE and creates nothing when the wallet cannot pay', async () => {
    const { accountId } = await paidRecharge('5.00');
    const orderNo = unique('BAL');
    const answer = await client.request<ErrorBody>('POST', '/v1/payments', {
      order_no: orderNo,
      amount: '5.01',
      subject: 'too much',
      channel: 'BALANCE',
      payer_account_id: accountId,
    });
    expect(answer.status).toBe(402);
    expect(answer.body.error.code).toBe('INSUFFICIENT_BALANCE');
    expect((await client.request('GET', `/v1/payments?order_no=${orderNo}`)).status).toBe(404);
    expect(await balanceOf(accountId)).toMatchObject({ available: '5.00' });
  });

  it('never overdraws when 10 balance payments race for one wallet', async () => {
    const { accountId } = await paidRecharge('30.00');
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        client.request<Json>('POST', '/v1/payments', {
          order_no: unique('RACE'),
          amount: '7.00',
          subject: 'race',
          channel: 'BALANCE',
          payer_account_id: accountId,
        }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(4);
    expect(answers.filter((answer) => answer.status === 402)).toHaveLength(6);
    expect(await balanceOf(accountId)).toMatchObject({ available: '2.00' });
  });

  it('requires payer_account_id for the balance channel', async () => {
    const answer = await client.request<ErrorBody>('POST', '/v1/payments', {
      order_no: unique('BAL'),
      amount: '1.00',
      subject: 'x',
      channel: 'BALANCE',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('refunds to the payer’s wallet (destination BALANCE)', () => {
  /** A paid sandbox payment that credited no wallet (goods, not a top-up). */
  async function paidPurchase(amount: string) {
    const created = await client.request<Json>('POST', '/v1/payments', {
      order_no: unique('GOODS'),
      amount,
      subject: 'goods',
      channel: 'SANDBOX',
    });
    expect((await postSandboxCallback(stack.apiBase, successCallback(created.body as never))).status).toBe(200);
    return String(created.body.id);
  }

  it('answers 201 SUCCEEDED at once and credits the named wallet; the payment shows the refunded amount', async () => {
    const paymentId = await paidPurchase('40.00');
    const payer = unique('payer-');
    const answer = await client.request<Json>('POST', '/v1/refunds', {
      payment_id: paymentId,
      refund_no: unique('R'),
      amount: '15.00',
      destination: 'BALANCE',
      account_id: payer,
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ status: 'SUCCEEDED', destination: 'BALANCE', account_id: payer });
    expect(answer.body.completed_at).toMatch(/Z$/);
    expect(await balanceOf(payer)).toMatchObject({ available: '15.00', frozen: '0.00' });
    const payment = await client.request<Json>('GET', `/v1/payments/${paymentId}`);
    expect(payment.body).toMatchObject({ status: 'PARTIALLY_REFUNDED', refunded_amount: '15.00' });
    const original = await refund(paymentId, '25.00');
    expect(original.body).toMatchObject({ status: 'PROCESSING', destination: 'ORIGINAL', account_id: null });
    expect((await refund(paymentId, '0.01')).body.error.code).toBe('REFUND_EXCEEDS_PAYMENT');
  });

  it('refuses a recharge with 409 REFUND_DESTINATION_NOT_ALLOWED, and malformed destinations with 400', async () => {
    const { paymentId, accountId } = await paidRecharge('10.00');
    const send = (extra: Json) =>
      client.request<ErrorBody>('POST', '/v1/refunds', {
        payment_id: paymentId,
        refund_no: unique('R'),
        amount: '1.00',
        ...extra,
      });
    const recharge = await send({ destination: 'BALANCE', account_id: accountId });
    expect(recharge.status).toBe(409);
    expect(recharge.body.error.code).toBe('REFUND_DESTINATION_NOT_ALLOWED');
    for (const extra of [
      { destination: 'BALANCE' },
      { destination: 'ORIGINAL', account_id: accountId },
      { account_id: accountId },
      { destination: 'WALLET', account_id: accountId },
      { destination: 'BALANCE', account_id: 'bad id!' },
    ]) {
      const answer = await send(extra);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    }
    expect(await balanceOf(accountId)).toMatchObject({ available: '10.00', frozen: '0.00' });
    expect((await client.request<Json>('GET', `/v1/payments/${paymentId}`)).body.refunded_amount).toBe('0.00');
  });
});
