import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { outTradeNoOf } from '#adapters/channels/wechat-pay/transformers.ts';
import { setRiskConfig } from '#app/risk-admin.ts';
import { RESERVATION_SWEEP_AFTER_MS } from '#domain/daily-volume.ts';
import { expiryBucket } from '#domain/expiry.ts';
import type { Payment } from '#domain/payment.ts';
import { uniqueId } from '../support/fixtures.ts';
import { callbackUrls } from '../support/real-channels.ts';
import { type FaultStack, startFaultStack } from './support/fault-stack.ts';
import type { Fault } from './support/faults.ts';
import { assertInvariants, notificationsSettled, sweep } from './support/invariants.ts';

type Json = Record<string, unknown>;

let stack: FaultStack;

beforeAll(async () => {
  // A daily limit on both channels: every routed payment reserves daily volume, which a close must give back.
  stack = await startFaultStack({ sqsEndpoint: inject('sqsEndpoint'), dailyLimitMinor: 100_000_000 });
  // And payer and merchant daily limits, set before the gateway process reads (and caches) the merchant's rules.
  const limits = { payer_day: '1000.00', merchant_day: '100000.00' };
  await setRiskConfig(stack.container, { limits: { CNY: limits } }, stack.merchantId);
});
afterAll(() => stack?.stop());

/** After every injected crash: the timers' work, the notifications, then every invariant over the whole table. */
afterEach(async () => {
  await sweep(stack);
  await notificationsSettled(stack);
  await assertInvariants(stack);
});

const DAY_MS = 24 * 60 * 60 * 1000;
const wechat = () => stack.channels.wechat.server;
const balanceOf = async (accountId: string) =>
  (await stack.client.request<Json>('GET', `/v1/accounts/${accountId}/balance?currency=CNY`)).body;
const refundBody = (paymentId: string, amount: string) => ({ payment_id: paymentId, refund_no: uniqueId('R'), amount });
/** The refunds WeChat Pay holds for a payment (each keyed by the gateway's refund id, its `out_refund_no`). */
const refundsAtWechat = (paymentId: string) =>
  [...wechat().refunds.values()].filter((refund) => refund.out_trade_no === outTradeNoOf(paymentId));

/** A WeChat Pay recharge of 50.00, paid and credited, with a refund of 20.00 accepted by WeChat Pay (PROCESSING). */
async function processingRefund() {
  const { id, accountId } = await stack.paidRecharge('50.00', 'WECHAT_PAY');
  const body = refundBody(id, '20.00');
  const submitted = await stack.client.request<Json>('POST', '/v1/refunds', body);
  expect(submitted).toMatchObject({ status: 201, body: { status: 'PROCESSING', channel: 'WECHAT_PAY' } });
  const refundId = String(submitted.body.id);
  expect(wechat().refunds.get(refundId)?.status).toBe('PROCESSING');
  expect(await balanceOf(accountId)).toMatchObject({ available: '30.00', frozen: '20.00' });
  return { id, accountId, body, refundId };
}

/**
 * The refund settled once: SUCCEEDED, the frozen 20.00 deducted, the payment's refunded and refundable amounts
 * consistent (a refund of more than the 30.00 left is refused), and WeChat Pay holds this one refund only.
 */
async function expectSettledOnce(payment: { id: string; accountId: string }, refundId: string) {
  expect((await stack.client.request<Json>('GET', `/v1/refunds/${refundId}`)).body).toMatchObject({
    status: 'SUCCEEDED',
    amount: '20.00',
  });
  expect(await balanceOf(payment.accountId)).toMatchObject({ available: '30.00', frozen: '0.00' });
  expect((await stack.client.request<Json>('GET', `/v1/payments/${payment.id}`)).body).toMatchObject({
    status: 'PARTIALLY_REFUNDED',
    refunded_amount: '20.00',
  });
  const over = await stack.client.request<Json>('POST', '/v1/refunds', refundBody(payment.id, '30.01'));
  expect(over).toMatchObject({ status: 409, body: { error: { code: 'REFUND_EXCEEDS_PAYMENT' } } });
  expect(refundsAtWechat(payment.id).map((refund) => [refund.out_refund_no, refund.status])).toEqual([
    [refundId, 'SUCCESS'],
  ]);
}

const refundFault = (at: 'before-commit' | 'after-commit', refundNo: string) =>
  ({ at, entity: 'REFUND', field: 'refundNo', value: refundNo, status: 'SUCCEEDED' }) satisfies Fault;

describe('WeChat Pay refund (accepted PROCESSING, settled later by REFUND.SUCCESS or the status sync)', () => {
  it('dies after WeChat Pay accepted the refund, before the response: the retry replays it, settled once later', async () => {
    const payment = await stack.paidRecharge('50.00', 'WECHAT_PAY');
    const body = refundBody(payment.id, '20.00');
    const fault: Fault = {
      at: 'channel-answered',
      method: 'POST',
      path: '/v3/refund/domestic/refunds',
      bodyIncludes: `"out_trade_no":"${outTradeNoOf(payment.id)}"`,
    };
    expect(await stack.crashDuring(fault, () => stack.client.request('POST', '/v1/refunds', body))).toBe(
      'connection lost',
    );
    // Try committed (money frozen) and WeChat Pay has the refund; the gateway never heard its answer.
    const [accepted] = refundsAtWechat(payment.id);
    expect(accepted?.status).toBe('PROCESSING');
    expect(await balanceOf(payment.accountId)).toMatchObject({ available: '30.00', frozen: '20.00' });
    const retried = await stack.requestUntilAnswered('POST', '/v1/refunds', body);
    expect(retried).toMatchObject({ status: 200, body: { id: accepted?.out_refund_no, status: 'PROCESSING' } });

    // The status sync asks WeChat Pay (still processing) and submits it again by refund id: no second refund there.
    expect(await sweep(stack)).toBeGreaterThanOrEqual(1);
    expect(refundsAtWechat(payment.id)).toHaveLength(1);
    wechat().settleRefund(String(accepted?.out_refund_no), 'SUCCESS');
    await stack.notifyRefundUntilAcknowledged(String(accepted?.out_refund_no));
    await expectSettledOnce(payment, String(retried.body.id));
  });

  it('dies handling REFUND.SUCCESS before its commit: WeChat Pay re-sends it, deducted once', async () => {
    const { id, accountId, body, refundId } = await processingRefund();
    wechat().settleRefund(refundId, 'SUCCESS');
    const fault = refundFault('before-commit', body.refund_no);
    expect(await stack.crashDuring(fault, () => stack.notifyRefundUntilAcknowledged(refundId))).toBe('answered');
    await expectSettledOnce({ id, accountId }, refundId);
  });

  it('dies handling REFUND.SUCCESS after its commit: the re-sent callback is acknowledged, deducted once', async () => {
    const { id, accountId, body, refundId } = await processingRefund();
    wechat().settleRefund(refundId, 'SUCCESS');
    const fault = refundFault('after-commit', body.refund_no);
    const callback = () => wechat().sendRefundNotification(callbackUrls(stack.apiBase).wechat, refundId);
    expect(await stack.crashDuring(fault, callback)).toBe('connection lost');
    expect((await stack.container.refunds.get(refundId))?.status).toBe('SUCCEEDED');
    await stack.notifyRefundUntilAcknowledged(refundId);
    await expectSettledOnce({ id, accountId }, refundId);
  });

  it('REFUND.SUCCESS is lost entirely: the status sync asks WeChat Pay and settles it once; a late callback changes nothing', async () => {
    const { id, accountId, refundId } = await processingRefund();
    wechat().settleRefund(refundId, 'SUCCESS');
    expect(await sweep(stack)).toBeGreaterThanOrEqual(1);
    await expectSettledOnce({ id, accountId }, refundId);
    await stack.notifyRefundUntilAcknowledged(refundId);
    await expectSettledOnce({ id, accountId }, refundId);
  });
});

describe('the expiry run (the minute timer)', () => {
  it('dies after closing some of a bucket of 20 expired payments: the restarted run closes the rest, each once', async () => {
    // Limits in force (see beforeAll): every payment reserves its payer's and the merchant's daily amounts; routed (no
    // channel named), each also reserves its channel's daily volume.
    const payers = Array.from({ length: 4 }, () => uniqueId('user'));
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        stack.createRecharge(
          { order_no: uniqueId('ORD'), account_id: payers[index % payers.length] ?? '', amount: `${index + 1}.00` },
          'AUTO',
        ),
      ),
    );
    const payments = await Promise.all(created.map((body) => stack.container.payments.get(String(body.id))));
    const ours = payments.map((payment) => {
      if (!payment) throw new Error('a created payment is missing');
      expect(payment.risk?.reservations).toHaveLength(2);
      expect(payment.channelVolume).toEqual({ day: expect.any(String), amountMinor: payment.amountMinor });
      return payment;
    });
    // One minute bucket (two if the creations straddled a minute) — the minute of the first ask at the channel, minutes
    // ahead, so no timer on the real clock acts on them meanwhile — in the order the timer's task goes through it.
    const buckets = [...new Set(ours.map((payment) => expiryBucket(payment.syncAt ?? payment.expiresAt)))].sort();
    const order: string[] = [];
    for (const bucket of buckets)
      order.push(...(await stack.container.expiryIndex.listPending(bucket, 100)).paymentIds);
    const ids = new Set(ours.map((payment) => payment.id));
    const queue = order.filter((id) => ids.has(id));
    expect(queue).toHaveLength(20);
    const held = await reserved(ours);

    // The process running the timer dies right after committing the close of the 8th payment it reached.
    const eighth = queue[7] ?? '';
    const fault: Fault = { at: 'after-commit', entity: 'PAYMENT', field: 'id', value: eighth, status: 'CLOSED' };
    expect(await stack.crashDuring(fault, () => stack.gateway.expire(buckets, DAY_MS))).toBe('connection lost');
    const statuses = async () => Promise.all(queue.map(async (id) => (await stack.container.payments.get(id))?.status));
    expect(await statuses()).toEqual([...Array(8).fill('CLOSED'), ...Array(12).fill('PENDING')]);

    // The timer's task runs again in the new process (Step Functions retries a task whose Lambda died).
    const counts = await stack.gateway.expire(buckets, DAY_MS);
    expect(counts.reduce((sum, bucket) => sum + bucket.closed, 0)).toBe(12);
    expect(counts.every((bucket) => bucket.succeeded === 0 && bucket.postponed === 0)).toBe(true);
    expect(await statuses()).toEqual(Array(20).fill('CLOSED'));
    for (const bucket of buckets)
      expect((await stack.container.expiryIndex.listPending(bucket, 100)).paymentIds).toEqual([]);
    // Every reservation given back exactly once: the counters fell by exactly what the 20 had reserved.
    const after = await reserved(ours);
    for (const [key, total] of held.totals) {
      expect(after.totals.get(key), key).toBe(total - (held.ours.get(key) ?? 0));
    }
    // A third run finds nothing to do and gives nothing back again.
    expect((await stack.gateway.expire(buckets, DAY_MS)).every((bucket) => bucket.closed === 0)).toBe(true);
    expect((await reserved(ours)).totals).toEqual(after.totals);
    // Closed at the channels too, so none of them can be paid any more.
    for (const payment of ours) {
      const closedAtChannel =
        payment.channel === 'ALIPAY'
          ? stack.channels.alipay.server.trades.get(payment.id)?.status === 'TRADE_CLOSED'
          : wechat().orders.get(outTradeNoOf(payment.id))?.trade_state === 'CLOSED';
      expect(closedAtChannel, `${payment.id} closed at ${payment.channel}`).toBe(true);
    }
  });
});

describe("a routed payment's daily-volume reservation", () => {
  it('dies between the reservation and the creating commit: the sweep gives it back once; the retried payment keeps its own', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const channels = ['ALIPAY', 'WECHAT_PAY'] as const;
    const totals = async () =>
      Promise.all(channels.map((channel) => stack.container.dailyVolume.dailyTotal({ channel, day, currency: 'CNY' })));
    const before = await totals();
    const body = { order_no: uniqueId('ORD'), account_id: uniqueId('user'), amount: '37.13' };
    // The process dies right after the reservation's transaction (counter + record) committed: nothing created, the
    // channel never asked.
    const fault: Fault = { at: 'after-commit', entity: 'VOLUME_RESERVATION', field: 'amountMinor', value: 3_713 };
    expect(await stack.crashDuring(fault, () => stack.createRecharge(body, 'AUTO'))).toBe('connection lost');
    expect(await stack.container.payments.findByOrderNo(stack.merchantId, body.order_no)).toBeUndefined();
    const [orphan, ...others] = await unconfirmed();
    expect(others).toEqual([]);
    expect(orphan).toMatchObject({ amountMinor: 3_713, day });
    const orphanChannel = channels.indexOf(String(orphan?.channel) as (typeof channels)[number]);
    expect(orphanChannel).toBeGreaterThanOrEqual(0);
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    expect(sum(await totals())).toBe(sum(before) + 3_713); // held for the day, for now

    // The merchant retries: a new payment, routed and reserved again — confirmed by its creating transaction.
    const retried = await stack.requestUntilAnswered('POST', '/v1/payments', {
      ...body,
      currency: 'CNY',
      subject: 'Wallet top-up',
      method: 'QR',
    });
    expect(retried.status).toBe(201);
    const created = await stack.container.payments.get(String(retried.body.id));
    expect(created?.channelVolume).toMatchObject({ day, amountMinor: 3_713 });
    expect((await unconfirmed()).map((record) => record.paymentId)).toEqual([orphan?.paymentId]);
    expect(sum(await totals())).toBe(sum(before) + 2 * 3_713);

    // The minute timer of its sweep minute, run by the gateway process with a clock past it (not past the new
    // payment's expiry; the bucket may hold its first status sync): given back once, only the orphan.
    const bucket = [expiryBucket(String(orphan?.sweepAt))];
    const ahead = RESERVATION_SWEEP_AFTER_MS + 60_000;
    const first = await stack.gateway.expire(bucket, ahead);
    expect(first.reduce((total, counts) => total + counts.released, 0)).toBe(1);
    expect(await unconfirmed()).toEqual([]);
    const expected = [...before];
    const createdAt = channels.indexOf(created?.channel as (typeof channels)[number]);
    expected[createdAt] = (expected[createdAt] ?? 0) + 3_713;
    expect(await totals()).toEqual(expected);
    expect(expected[orphanChannel]).toBe((before[orphanChannel] ?? 0) + (createdAt === orphanChannel ? 3_713 : 0));
    // Again (a retried task): nothing left to give back.
    const again = await stack.gateway.expire(bucket, ahead);
    expect(again.reduce((total, counts) => total + counts.released, 0)).toBe(0);
    expect(await totals()).toEqual(expected);
    expect(await stack.container.payments.get(String(retried.body.id))).toMatchObject({ status: 'PENDING' });
  });
});

/** The unconfirmed daily-volume reservation records of the stack's table. */
async function unconfirmed(): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  const pages = paginateScan(
    { client: stack.container.db },
    {
      TableName: stack.tableName,
      ConsistentRead: true,
      FilterExpression: '#entity = :entity',
      ExpressionAttributeNames: { '#entity': 'entity' },
      ExpressionAttributeValues: { ':entity': 'VOLUME_RESERVATION' },
    },
  );
  for await (const page of pages) records.push(...(page.Items ?? []));
  return records;
}

/**
 * The counters the payments reserved, as stored now (`totals`), and the share of `payments` in each (`ours`): each
 * payer's and the merchant's daily risk limit, and the daily volume of each payment's channel — keyed by what they
 * count.
 */
async function reserved(payments: Payment[]) {
  const totals = new Map<string, number>();
  const ours = new Map<string, number>();
  for (const payment of payments) {
    const day = payment.createdAt.slice(0, 10);
    const snapshot = await stack.container.riskStore.snapshot({
      now: new Date(payment.createdAt),
      merchantId: payment.merchantId,
      payerAccountId: payment.accountId,
      amountMinor: payment.amountMinor,
      currency: payment.currency,
    });
    const volume = payment.channelVolume;
    const volumeKey = { channel: payment.channel, day: volume?.day ?? day, currency: payment.currency };
    const counted: [string, number][] = [
      [`payer ${payment.accountId} ${day}`, snapshot.payerDayMinor],
      [`merchant ${day}`, snapshot.merchantDay.totals[0]?.totalMinor ?? 0],
      [`volume ${payment.channel} ${volumeKey.day}`, await stack.container.dailyVolume.dailyTotal(volumeKey)],
    ];
    for (const [key, total] of counted) {
      totals.set(key, total);
      ours.set(key, (ours.get(key) ?? 0) + payment.amountMinor);
    }
  }
  return { totals, ours };
}
