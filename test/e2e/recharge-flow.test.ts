import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MerchantClient } from '../../local/merchant-client.ts';
import { startHttpStack } from '../support/http-stack.ts';
import { postSandboxCallback, successCallback } from '../support/sandbox.ts';

type Json = Record<string, unknown>;

let stack: Awaited<ReturnType<typeof startHttpStack>>;
let client: MerchantClient;

beforeAll(async () => {
  stack = await startHttpStack();
  ({ client } = await stack.newClient());
});
afterAll(() => stack.stop());

function paymentBody(overrides: Json = {}): Json {
  return {
    order_no: `ORD${Math.random().toString(36).slice(2, 12)}`,
    amount: '100.00',
    currency: 'CNY',
    subject: 'Wallet top-up',
    channel: 'SANDBOX',
    method: 'QR',
    account_id: 'user-42',
    ...overrides,
  };
}

describe('recharge flow over HTTP', () => {
  it('creates a payment, pays it through the sandbox cashier page, and credits the wallet', async () => {
    const accountId = `user-${Math.random().toString(36).slice(2, 10)}`;
    const created = await client.request<Json>('POST', '/v1/payments', paymentBody({ account_id: accountId }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ object: 'payment', status: 'PENDING', amount: '100.00', paid_at: null });
    const payUrl = String(created.body.pay_url);
    expect(payUrl).toBe(`${stack.apiBase}/sandbox/checkout/${created.body.id}`);

    const page = await fetch(payUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('¥100.00<span class="code">CNY</span>');
    expect(html).toContain('value="pay"');

    const paid = await fetch(payUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=pay',
    });
    expect(await paid.text()).toContain('Payment successful');

    const payment = await client.request<Json>('GET', `/v1/payments/${created.body.id}`);
    expect(payment.body).toMatchObject({ status: 'SUCCEEDED', late: false });
    expect(payment.body.paid_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(payment.body.channel_trade_no).toMatch(/^sbx_/);

    const balance = await client.request<Json>('GET', `/v1/accounts/${accountId}/balance?currency=CNY`);
    expect(balance.status).toBe(200);
    expect(balance.body).toMatchObject({
      object: 'balance',
      account_id: accountId,
      available: '100.00',
      frozen: '0.00',
    });

    const ledger = await client.request<{ data: Json[] }>('GET', `/v1/accounts/${accountId}/ledger?currency=CNY`);
    expect(ledger.body.data).toHaveLength(1);
    expect(ledger.body.data[0]).toMatchObject({
      type: 'RECHARGE',
      amount: '100.00',
      available_after: '100.00',
      payment_id: created.body.id,
    });
  });

  it('credits the wallet once when 50 identical callbacks arrive at the same time', async () => {
    const accountId = `user-${Math.random().toString(36).slice(2, 10)}`;
    const created = await client.request<Json>(
      'POST',
      '/v1/payments',
      paymentBody({ account_id: accountId, amount: '12.34' }),
    );
    const callback = successCallback(created.body as { id: string; amount: string; currency: string });
    const answers = await Promise.all(Array.from({ length: 50 }, () => postSandboxCallback(stack.apiBase, callback)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));

    const balance = await client.request<Json>('GET', `/v1/accounts/${accountId}/balance`);
    expect(balance.body.available).toBe('12.34');
    const ledger = await client.request<{ data: Json[] }>('GET', `/v1/accounts/${accountId}/ledger`);
    expect(ledger.body.data).toHaveLength(1);
  });

  it('finds a payment by order_no and hides it from other merchants', async () => {
    const body = paymentBody();
    const created = await client.request<Json>('POST', '/v1/payments', body);
    const byOrder = await client.request<Json>('GET', `/v1/payments?order_no=${body.order_no}`);
    expect(byOrder.status).toBe(200);
    expect(byOrder.body.id).toBe(created.body.id);

    const { client: stranger } = await stack.newClient();
    const foreign = await stranger.request<{ error: Json }>('GET', `/v1/payments/${created.body.id}`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('NOT_FOUND');
    const foreignByOrder = await stranger.request<Json>('GET', `/v1/payments?order_no=${body.order_no}`);
    expect(foreignByOrder.status).toBe(404);
  });

  it('keeps wallets of different merchants apart even for the same account id', async () => {
    const { client: other } = await stack.newClient();
    const accountId = `shared-${Math.random().toString(36).slice(2, 10)}`;
    const created = await client.request<Json>('POST', '/v1/payments', paymentBody({ account_id: accountId }));
    await postSandboxCallback(stack.apiBase, successCallback(created.body as never));
    const mine = await client.request<Json>('GET', `/v1/accounts/${accountId}/balance`);
    const theirs = await other.request<Json>('GET', `/v1/accounts/${accountId}/balance`);
    expect(mine.body.available).toBe('100.00');
    expect(theirs.body).toMatchObject({ available: '0.00', frozen: '0.00', updated_at: null });
  });

  it('replays an identical create with 200 and Idempotent-Replayed, and rejects a changed one with 409', async () => {
    const body = paymentBody();
    const first = await client.request<Json>('POST', '/v1/payments', body);
    const again = await client.request<Json>('POST', '/v1/payments', body);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);

    const changed = await client.request<{ error: Json }>('POST', '/v1/payments', { ...body, amount: '99.00' });
    expect(changed.status).toBe(409);
    expect(changed.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('treats the same parameters written differently as a replay, not a conflict', async () => {
    const body = paymentBody({ amount: '100.00' });
    const first = await client.request<Json>('POST', '/v1/payments', body);
    const again = await client.request<Json>('POST', '/v1/payments', { ...body, amount: '100.0', description: null });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
  });

  it('honours Idempotency-Key across different order numbers', async () => {
    const key = `key-${Math.random().toString(36).slice(2)}`;
    const body = paymentBody();
    const first = await client.request<Json>('POST', '/v1/payments', body, { headers: { 'idempotency-key': key } });
    const replay = await client.request<Json>('POST', '/v1/payments', body, { headers: { 'idempotency-key': key } });
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(first.body.id);
    const reused = await client.request<{ error: Json }>('POST', '/v1/payments', paymentBody(), {
      headers: { 'idempotency-key': key },
    });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe('IDEMPOTENCY_CONFLICT');
  });

  it('creates one payment when 20 identical creates race', async () => {
    const body = paymentBody();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => client.request<Json>('POST', '/v1/payments', body)),
    );
    const ids = new Set(answers.map((answer) => answer.body.id));
    expect(ids.size).toBe(1);
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(19);
  });

  it('closes a pending payment once and refuses to close it again', async () => {
    const created = await client.request<Json>('POST', '/v1/payments', paymentBody());
    const closed = await client.request<Json>('POST', `/v1/payments/${created.body.id}/close`);
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('CLOSED');
    const again = await client.request<{ error: Json }>('POST', `/v1/payments/${created.body.id}/close`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('INVALID_STATE');
  });

  it('turns a verified success after close into a late SUCCEEDED payment and credits the wallet', async () => {
    const accountId = `user-${Math.random().toString(36).slice(2, 10)}`;
    const created = await client.request<Json>('POST', '/v1/payments', paymentBody({ account_id: accountId }));
    await client.request('POST', `/v1/payments/${created.body.id}/close`);
    const answer = await postSandboxCallback(stack.apiBase, successCallback(created.body as never));
    expect(answer.status).toBe(200);
    const payment = await client.request<Json>('GET', `/v1/payments/${created.body.id}`);
    expect(payment.body).toMatchObject({ status: 'SUCCEEDED', late: true });
    const balance = await client.request<Json>('GET', `/v1/accounts/${accountId}/balance`);
    expect(balance.body.available).toBe('100.00');
  });

  it('marks a payment FAILED on a failure callback and credits nothing', async () => {
    const accountId = `user-${Math.random().toString(36).slice(2, 10)}`;
    const created = await client.request<Json>('POST', '/v1/payments', paymentBody({ account_id: accountId }));
    const answer = await postSandboxCallback(stack.apiBase, {
      ...successCallback(created.body as never),
      status: 'FAILED',
    });
    expect(answer.status).toBe(200);
    const payment = await client.request<Json>('GET', `/v1/payments/${created.body.id}`);
    expect(payment.body.status).toBe('FAILED');
    const balance = await client.request<Json>('GET', `/v1/accounts/${accountId}/balance`);
    expect(balance.body.available).toBe('0.00');
  });

  it('pages through the ledger newest first with a cursor', async () => {
    const accountId = `user-${Math.random().toString(36).slice(2, 10)}`;
    for (const amount of ['1.00', '2.00', '3.00']) {
      const created = await client.request<Json>(
        'POST',
        '/v1/payments',
        paymentBody({ account_id: accountId, amount }),
      );
      await postSandboxCallback(stack.apiBase, successCallback(created.body as never));
    }
    const first = await client.request<Json & { data: Json[] }>('GET', `/v1/accounts/${accountId}/ledger?limit=2`);
    expect(first.body.data.map((entry) => entry.amount)).toEqual(['3.00', '2.00']);
    expect(first.body.has_more).toBe(true);
    const second = await client.request<Json & { data: Json[] }>(
      'GET',
      `/v1/accounts/${accountId}/ledger?limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.data.map((entry) => entry.amount)).toEqual(['1.00']);
    expect(second.body.has_more).toBe(false);
    expect(second.body.data[0]?.available_after).toBe('1.00');
  });
});
