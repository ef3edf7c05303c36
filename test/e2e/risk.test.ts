import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBlacklistEntry, setRiskConfig } from '#app/risk-admin.ts';
import { approveReview, rejectReview } from '#app/risk-review.ts';
import type { MerchantClient } from '../../local/merchant-client.ts';
import { startHttpStack } from '../support/http-stack.ts';

type Json = Record<string, unknown>;
type List = { data: Json[]; has_more: boolean; next_cursor: string | null };

/**
 * The risk engine over HTTP, what a merchant sees: a blacklisted device answered `403 RISK_REJECTED` with its rule and
 * nothing created; a REVIEW payment created held (no pay URL, the cashier has no order to pay) until an operator
 * approves it, then paid through the cashier; held payments found with `?risk_decision=REVIEW`. Every answer is
 * checked against the OpenAPI document by the stack.
 */
let stack: Awaited<ReturnType<typeof startHttpStack>>;
let client: MerchantClient;
let merchantId: string;

beforeAll(async () => {
  stack = await startHttpStack();
  ({ client, merchantId } = await stack.newClient());
  // A payer's second payment within the hour scores 60: REVIEW (50) but not BLOCK (90).
  await setRiskConfig(
    stack.container,
    { velocity: { payer: { max: 1, window_seconds: 3600 } }, weights: { 'velocity.payer': 60 } },
    merchantId,
  );
});
afterAll(() => stack.stop());

const unique = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 12)}`;

function create(fields: Json) {
  return client.request<Json>('POST', '/v1/payments', {
    order_no: unique('RISK'),
    amount: '12.50',
    currency: 'CNY',
    subject: 'risk',
    channel: 'SANDBOX',
    ...fields,
  });
}

/** A payer's first payment (ALLOW) and its second (REVIEW, held). */
async function heldPayment(accountId: string): Promise<Json> {
  const first = await create({ account_id: accountId });
  expect(first.status).toBe(201);
  expect(first.body.risk).toEqual({ score: 0, decision: 'ALLOW', rules: [], review: null });
  const held = await create({ account_id: accountId });
  expect(held.status).toBe(201);
  expect(held.body).toMatchObject({
    status: 'PENDING',
    pay_url: null,
    qr_code: null,
    risk: { score: 60, decision: 'REVIEW', rules: ['velocity.payer'], review: 'PENDING' },
  });
  return held.body;
}

const checkout = (paymentId: string, init?: RequestInit) =>
  fetch(`${stack.apiBase}/sandbox/checkout/${paymentId}`, init);
const pay = (paymentId: string) =>
  checkout(paymentId, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'outcome=pay',
  });

describe('risk control over HTTP', () => {
  it('answers a blacklisted device 403 RISK_REJECTED naming the rule, and creates nothing', async () => {
    const device = unique('dev-');
    await addBlacklistEntry(stack.container, { kind: 'device', value: device, reason: 'chargebacks' });
    const orderNo = unique('BLK');
    const blocked = await create({ order_no: orderNo, device_id: device });
    expect(blocked.status).toBe(403);
    expect(blocked.body).toMatchObject({ error: { code: 'RISK_REJECTED', details: { rules: ['blacklist.device'] } } });
    expect(JSON.stringify(blocked.body)).not.toContain('chargebacks');
    expect((await client.request('GET', `/v1/payments?order_no=${orderNo}`)).status).toBe(404);

    const other = await create({ order_no: orderNo, device_id: unique('dev-') });
    expect(other.status).toBe(201);
    expect(other.body.risk).toMatchObject({ decision: 'ALLOW' });
  });

  it('holds a REVIEW payment: nothing can pay it until an operator approves it, then the cashier takes it', async () => {
    const accountId = unique('acct-');
    const held = await heldPayment(accountId);
    const id = String(held.id);

    expect((await checkout(id)).status).toBe(404);
    expect((await pay(id)).status).toBe(404);
    const still = await client.request<Json>('GET', `/v1/payments/${id}`);
    expect(still.body).toMatchObject({ status: 'PENDING', pay_url: null, risk: { review: 'PENDING' } });
    const empty = await client.request<Json>('GET', `/v1/accounts/${accountId}/balance?currency=CNY`);
    expect(empty.body).toMatchObject({ available: '0.00' });

    await approveReview(stack.container, id, 'known customer');
    const approved = await client.request<Json>('GET', `/v1/payments/${id}`);
    expect(approved.body).toMatchObject({
      status: 'PENDING',
      pay_url: `${stack.apiBase}/sandbox/checkout/${id}`,
      risk: { decision: 'REVIEW', review: 'APPROVED' },
    });
    expect((await checkout(id)).status).toBe(200);
    expect(await (await pay(id)).text()).toContain('Payment successful');
    const paid = await client.request<Json>('GET', `/v1/payments/${id}`);
    expect(paid.body).toMatchObject({ status: 'SUCCEEDED', risk: { review: 'APPROVED' } });
    const balance = await client.request<Json>('GET', `/v1/accounts/${accountId}/balance?currency=CNY`);
    expect(balance.body).toMatchObject({ available: '12.50' });
  });

  it('closes a rejected payment, and lists the held payments with ?risk_decision=REVIEW', async () => {
    const held = await heldPayment(unique('acct-'));
    const id = String(held.id);
    await rejectReview(stack.container, id, 'stolen card');
    const rejected = await client.request<Json>('GET', `/v1/payments/${id}`);
    expect(rejected.body).toMatchObject({ status: 'CLOSED', risk: { decision: 'REVIEW', review: 'REJECTED' } });
    expect((await checkout(id)).status).not.toBe(200);

    const reviewed = await client.request<List>('GET', '/v1/payments?risk_decision=REVIEW&limit=100');
    expect(reviewed.status).toBe(200);
    expect(reviewed.body.data.map((payment) => payment.id)).toContain(id);
    expect(reviewed.body.data.every((payment) => (payment.risk as Json).decision === 'REVIEW')).toBe(true);
    const heldNow = await client.request<List>('GET', '/v1/payments?risk_decision=REVIEW&status=CLOSED');
    expect(heldNow.body.data.map((payment) => payment.id)).toContain(id);
    const allowed = await client.request<List>('GET', '/v1/payments?risk_decision=ALLOW&limit=100');
    expect(allowed.body.data.length).toBeGreaterThan(0);
    expect(allowed.body.data.every((payment) => (payment.risk as Json).decision === 'ALLOW')).toBe(true);
    expect(allowed.body.data.map((payment) => payment.id)).not.toContain(id);

    const bad = await client.request<Json>('GET', '/v1/payments?risk_decision=BLOCK');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });
});
