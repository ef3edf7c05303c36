import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { uniqueId } from '../support/fixtures.ts';
import { type FaultStack, startFaultStack } from './support/fault-stack.ts';
import type { Fault } from './support/faults.ts';
import { assertInvariants, notificationsSettled, sweep } from './support/invariants.ts';

type Json = Record<string, unknown>;

let stack: FaultStack;

beforeAll(async () => {
  stack = await startFaultStack({ sqsEndpoint: inject('sqsEndpoint') });
});
afterAll(() => stack?.stop());

/** After every injected crash: the timers' work, the notifications, then every invariant over the whole table. */
afterEach(async () => {
  await sweep(stack);
  await notificationsSettled(stack);
  await assertInvariants(stack);
});

const recharge = (amount = '10.00') => ({ order_no: uniqueId('ORD'), account_id: uniqueId('user'), amount });
const alipayNotify = (id: string) =>
  stack.channels.alipay.server.sendNotification(`${stack.apiBase}/v1/callbacks/alipay`, id);
const balanceOf = async (accountId: string) =>
  (await stack.client.request<Json>('GET', `/v1/accounts/${accountId}/balance?currency=CNY`)).body;
const paymentFault = (at: 'before-commit' | 'after-commit', field: 'id' | 'orderNo', value: string, status: string) =>
  ({ at, entity: 'PAYMENT', field, value, status }) satisfies Fault;

const crashDuring = (fault: Fault, action: () => Promise<unknown>) => stack.crashDuring(fault, action);

describe('recharge: creating the payment', () => {
  it('dies after the channel answered, before the commit: the merchant retries and gets one payment', async () => {
    const body = recharge();
    const fault = paymentFault('before-commit', 'orderNo', body.order_no, 'PENDING');
    expect(await crashDuring(fault, () => stack.client.request('POST', '/v1/payments', { ...body, ...ALIPAY }))).toBe(
      'connection lost',
    );
    expect(await stack.container.payments.findByOrderNo(stack.merchantId, body.order_no)).toBeUndefined();

    const retried = await stack.requestUntilAnswered('POST', '/v1/payments', { ...body, ...ALIPAY });
    expect(retried.status).toBe(201);
    const id = String(retried.body.id);
    stack.pay(id);
    await stack.notifyUntilAcknowledged(id);
    expect(await balanceOf(body.account_id)).toMatchObject({ available: '10.00', frozen: '0.00' });
  });

  it('dies after the commit, before the response: the retry replays the committed payment', async () => {
    const body = recharge();
    const fault = paymentFault('after-commit', 'orderNo', body.order_no, 'PENDING');
    expect(await crashDuring(fault, () => stack.client.request('POST', '/v1/payments', { ...body, ...ALIPAY }))).toBe(
      'connection lost',
    );
    const committed = await stack.container.payments.findByOrderNo(stack.merchantId, body.order_no);
    expect(committed?.resourceId).toMatch(/^pay_/);

    const retried = await stack.requestUntilAnswered('POST', '/v1/payments', { ...body, ...ALIPAY });
    expect(retried).toMatchObject({ status: 200, body: { id: committed?.resourceId, status: 'PENDING' } });
  });
});

describe('recharge: the channel callback', () => {
  it('dies after the channel answered, before the commit: the channel retries and the wallet is credited once', async () => {
    const body = recharge('12.34');
    const id = String((await stack.createRecharge(body)).id);
    stack.pay(id);
    expect(await crashDuring(paymentFault('before-commit', 'id', id, 'SUCCEEDED'), () => alipayNotify(id))).toBe(
      'connection lost',
    );
    expect((await stack.container.payments.get(id))?.status).toBe('PENDING');

    await stack.notifyUntilAcknowledged(id);
    expect(await balanceOf(body.account_id)).toMatchObject({ available: '12.34', frozen: '0.00' });
  });

  it('dies after the commit, before the answer: the channel retries, the duplicate is acknowledged, credited once', async () => {
    const body = recharge('23.45');
    const id = String((await stack.createRecharge(body)).id);
    stack.pay(id);
    expect(await crashDuring(paymentFault('after-commit', 'id', id, 'SUCCEEDED'), () => alipayNotify(id))).toBe(
      'connection lost',
    );
    expect((await stack.container.payments.get(id))?.status).toBe('SUCCEEDED');

    await stack.notifyUntilAcknowledged(id);
    expect(await balanceOf(body.account_id)).toMatchObject({ available: '23.45', frozen: '0.00' });
  });
});

describe('recharge: the notification', () => {
  it('dies in the outbox relay after the event reached the queue: the stream re-delivers it', async () => {
    const id = String((await stack.createRecharge(recharge())).id);
    stack.pay(id);
    const fault: Fault = { at: 'relay-after', paymentId: id, eventType: 'payment.succeeded' };
    // The callback may or may not have been answered before the relay took the process down: the channel retries.
    await crashDuring(fault, () => stack.notifyUntilAcknowledged(id));
    expect((await stack.container.payments.get(id))?.status).toBe('SUCCEEDED');
  });

  it('dies in the outbox relay before the event reached the queue: the stream re-delivers it', async () => {
    const id = String((await stack.createRecharge(recharge())).id);
    stack.pay(id);
    await crashDuring({ at: 'relay-before', paymentId: id, eventType: 'payment.succeeded' }, () =>
      stack.notifyUntilAcknowledged(id),
    );
    expect((await stack.container.payments.get(id))?.status).toBe('SUCCEEDED');
  });

  it('dies while the merchant receives it: SQS hands the message to the next process, delivered again', async () => {
    const id = String((await stack.createRecharge(recharge())).id);
    stack.pay(id);
    let interrupted = '';
    stack.merchant.onNextDelivery(
      (body) => body.includes(id),
      (eventId) => {
        interrupted = eventId;
        stack.gateway.kill();
      },
    );
    const notified = stack.notifyUntilAcknowledged(id);
    expect(await stack.gateway.exited()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(stack.merchant.received.get(interrupted)).toBe(1);
    await stack.gateway.restart();
    await notified;
    await notificationsSettled(stack);
    expect(stack.merchant.received.get(interrupted)).toBeGreaterThanOrEqual(2);
  });
});

const ALIPAY = { currency: 'CNY', subject: 'Wallet top-up', channel: 'ALIPAY', method: 'QR' };
