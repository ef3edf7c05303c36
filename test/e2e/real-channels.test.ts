// Over 250 lines: the gateway against local Alipay and WeChat Pay servers, every protocol path, on one stack.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadPrivateKey, signNotification } from '#adapters/channels/alipay/signing.ts';
import { createContainer } from '#adapters/container.ts';
import { DynamoChannelHealthRepository } from '#adapters/dynamo/channel-health-repository.ts';
import { createPayment } from '#app/create-payment.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Channel } from '#domain/payment.ts';
import { loadConfig } from '#shared/config.ts';
import type { MerchantClient } from '../../local/merchant-client.ts';
import { transactionNotification } from '../support/channels/wechat-pay-notifications.ts';
import { newMerchant, uniqueId } from '../support/fixtures.ts';
import { createQrPayment, type RealChannelStack, startRealChannelStack } from '../support/real-channel-stack.ts';
import { callbackUrls, type LocalChannels, rsaKeyPair } from '../support/real-channels.ts';
import { PUB_KEY_ID } from '../support/wechat-pay.ts';

type Json = Record<string, unknown>;

/** Alipay gets most unnamed traffic while healthy; WeChat Pay most of the rest; the sandbox (weight 1) the remainder. */
const WEIGHTS = { ALIPAY: 100, WECHAT_PAY: 10 };
const PRECREATE = 'alipay.trade.precreate';

let real: RealChannelStack;
let table: RealChannelStack['table'];
let channels: LocalChannels;
let stack: RealChannelStack['stack'];
let client: MerchantClient;
let notify: ReturnType<typeof callbackUrls>;

beforeAll(async () => {
  real = await startRealChannelStack(WEIGHTS);
  ({ table, channels, stack } = real);
  notify = callbackUrls(stack.apiBase);
  ({ client } = await stack.newClient());
}, 120_000);

afterAll(() => real?.stop());

afterEach(() => real.resetBehaviours());

const createQr = (fields: Json = {}) => createQrPayment(client, fields);

/** The payment without `channel_attempts`: every callback, even a repeated one, adds a journal attempt. */
const paymentOf = async (id: string) => {
  const { channel_attempts: _attempts, ...payment } = (await client.request<Json>('GET', `/v1/payments/${id}`)).body;
  return payment;
};
const balanceOf = async (accountId: string) =>
  (await client.request<Json>('GET', `/v1/accounts/${accountId}/balance?currency=CNY`)).body;
const ledgerOf = async (accountId: string) =>
  (await client.request<{ data: Json[] }>('GET', `/v1/accounts/${accountId}/ledger?currency=CNY`)).body.data;

async function postForm(url: string, params: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, body: await response.text() };
}

async function postSigned(url: string, signed: { headers: Record<string, string>; body: string }) {
  const response = await fetch(url, { method: 'POST', headers: signed.headers, body: signed.body });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
}

/** A WeChat Pay QR recharge created over HTTP and paid by the payer at the local server (not yet notified). */
async function wechatPaidAtServer(accountId: string, amount = '100.00') {
  const created = await createQr({ channel: 'WECHAT_PAY', amount, account_id: accountId });
  expect(created.status).toBe(201);
  const id = String(created.body.id);
  const outTradeNo = id.slice('pay_'.length);
  return { id, outTradeNo, created, order: channels.wechat.server.pay(outTradeNo) };
}

/** Forgets the shared breakers of both external channels (as if never called). */
const resetBreakers = () => real.resetBreakers();

/** The breaker state as stored in the table (no cache). */
async function storedBreaker(channel: Channel) {
  const health = new DynamoChannelHealthRepository(table.db, table.tableName, { cacheTtlMs: 0, consistentRead: true });
  return (await health.read([channel])).get(channel);
}

describe('Alipay end to end (real adapter, local Alipay server)', () => {
  it('creates a QR payment with the qr_code Alipay precreated and credits the recharge once on its notification', async () => {
    const accountId = uniqueId('user');
    const created = await createQr({ channel: 'ALIPAY', amount: '88.88', account_id: accountId });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    const trade = channels.alipay.server.trades.get(id);
    expect(trade).toMatchObject({ status: 'WAIT_BUYER_PAY', totalAmount: '88.88', notifyUrl: notify.alipay });
    expect(created.body).toMatchObject({
      status: 'PENDING',
      channel: 'ALIPAY',
      method: 'QR',
      qr_code: trade?.qrCode,
      pay_url: null,
    });
    expect(trade?.qrCode).toMatch(/^https:\/\/qr\.alipay\.com\//);

    channels.alipay.server.pay(id);
    expect(await channels.alipay.server.sendNotification(notify.alipay, id)).toEqual({ status: 200, body: 'success' });
    const paid = await paymentOf(id);
    expect(paid).toMatchObject({ status: 'SUCCEEDED', channel_trade_no: trade?.tradeNo, late: false });
    expect(paid.paid_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(await balanceOf(accountId)).toMatchObject({ available: '88.88', frozen: '0.00' });
    const ledger = await ledgerOf(accountId);
    expect(ledger).toEqual([expect.objectContaining({ type: 'RECHARGE', amount: '88.88', payment_id: id })]);

    // Alipay resends until it reads `success`; a resend changes nothing.
    expect(await channels.alipay.server.sendNotification(notify.alipay, id)).toEqual({ status: 200, body: 'success' });
    expect(await paymentOf(id)).toEqual(paid);
    expect(await balanceOf(accountId)).toMatchObject({ available: '88.88', frozen: '0.00' });
    expect(await ledgerOf(accountId)).toEqual(ledger);
  });

  it('answers a forged notification with fail and leaves the payment pending and the wallet empty', async () => {
    const accountId = uniqueId('user');
    const created = await createQr({ channel: 'ALIPAY', amount: '66.00', account_id: accountId });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    const genuine = channels.alipay.server.notificationParams(id); // WAIT_BUYER_PAY, signed by Alipay
    const tampered: Record<string, string> = {
      ...genuine,
      trade_status: 'TRADE_SUCCESS',
      gmt_payment: genuine.gmt_create ?? '',
    };
    const { sign: _genuineSign, ...form } = tampered;
    const impostor = { ...form, sign: signNotification(form, loadPrivateKey(rsaKeyPair().privateKeyPem)) };

    for (const forged of [tampered, impostor]) {
      expect(await postForm(notify.alipay, forged)).toEqual({ status: 200, body: 'fail' });
    }
    expect(await paymentOf(id)).toMatchObject({ status: 'PENDING', paid_at: null, channel_trade_no: null });
    expect(await balanceOf(accountId)).toMatchObject({ available: '0.00', frozen: '0.00', updated_at: null });
    expect(await ledgerOf(accountId)).toEqual([]);
  });
});

describe('WeChat Pay end to end (real adapter, local WeChat Pay server)', () => {
  it('creates a native QR payment with its code_url and credits the recharge once on TRANSACTION.SUCCESS', async () => {
    const accountId = uniqueId('user');
    const { id, outTradeNo, created, order } = await wechatPaidAtServer(accountId, '100.00');
    expect(order).toMatchObject({
      trade_type: 'NATIVE',
      trade_state: 'SUCCESS',
      amount: { total: 10000, currency: 'CNY' },
      notify_url: notify.wechat,
    });
    expect(created.body).toMatchObject({
      status: 'PENDING',
      channel: 'WECHAT_PAY',
      qr_code: `weixin://wxpay/bizpayurl?pr=${outTradeNo}`,
    });

    const answer = await channels.wechat.server.sendTransactionNotification(notify.wechat, outTradeNo);
    expect(answer).toEqual({ status: 204, body: '' });
    const paid = await paymentOf(id);
    expect(paid).toMatchObject({
      status: 'SUCCEEDED',
      channel_trade_no: order.transaction_id,
      paid_at: new Date(order.success_time ?? '').toISOString(),
    });
    expect(await balanceOf(accountId)).toMatchObject({ available: '100.00', frozen: '0.00' });
    const ledger = await ledgerOf(accountId);
    expect(ledger).toEqual([expect.objectContaining({ type: 'RECHARGE', amount: '100.00', payment_id: id })]);

    const again = await channels.wechat.server.sendTransactionNotification(notify.wechat, outTradeNo);
    expect(again).toEqual({ status: 204, body: '' });
    expect(await paymentOf(id)).toEqual(paid);
    expect(await ledgerOf(accountId)).toEqual(ledger);
  });

  it('answers a forged callback 401 with a FAIL body and leaves the payment pending and the wallet empty', async () => {
    const accountId = uniqueId('user');
    const created = await createQr({ channel: 'WECHAT_PAY', amount: '50.00', account_id: accountId });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    const order = channels.wechat.server.orders.get(id.slice('pay_'.length));
    if (!order) throw new Error('the local WeChat Pay server has no order for the payment');
    const claimedPaid = { ...order, transaction_id: '4200000000000000000000000001', success_time: order.time_expire };
    // Signed under the platform serial with a key that is not the platform's.
    const impostor = transactionNotification(
      { serial: PUB_KEY_ID, key: channels.wechat.merchant.privateKey, apiV3Key: channels.wechat.config.apiV3Key },
      claimedPaid,
    );
    // Genuine platform headers of another payment's callback, put on a body that claims this one is paid.
    const other = await wechatPaidAtServer(uniqueId('user'), '1.00');
    const swapped = {
      headers: channels.wechat.server.transactionNotification(other.outTradeNo).headers,
      body: impostor.body,
    };

    for (const forged of [impostor, swapped]) {
      const answer = await postSigned(notify.wechat, forged);
      expect(answer.status).toBe(401);
      expect(answer.contentType).toBe('application/json');
      expect(JSON.parse(answer.body)).toEqual({ code: 'FAIL', message: 'CALLBACK_SIGNATURE_INVALID' });
    }
    expect(await paymentOf(id)).toMatchObject({ status: 'PENDING', paid_at: null, channel_trade_no: null });
    expect(await balanceOf(accountId)).toMatchObject({ available: '0.00', frozen: '0.00', updated_at: null });
    expect(await paymentOf(other.id)).toMatchObject({ status: 'PENDING' });
  });

  it('refunds part of a WeChat Pay recharge: frozen on submission, deducted on REFUND.SUCCESS, once', async () => {
    const accountId = uniqueId('user');
    const { id, outTradeNo } = await wechatPaidAtServer(accountId, '100.00');
    await channels.wechat.server.sendTransactionNotification(notify.wechat, outTradeNo);
    expect(await balanceOf(accountId)).toMatchObject({ available: '100.00', frozen: '0.00' });

    const submitted = await client.request<Json>('POST', '/v1/refunds', {
      payment_id: id,
      refund_no: uniqueId('R'),
      amount: '30.00',
    });
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({ status: 'PROCESSING', channel: 'WECHAT_PAY', amount: '30.00' });
    const refundId = String(submitted.body.id);
    const atWechat = channels.wechat.server.refunds.get(refundId);
    expect(atWechat).toMatchObject({
      status: 'PROCESSING',
      out_trade_no: outTradeNo,
      notify_url: notify.wechat,
      amount: { refund: 3000, total: 10000, currency: 'CNY' },
    });
    expect(await balanceOf(accountId)).toMatchObject({ available: '70.00', frozen: '30.00' });

    channels.wechat.server.settleRefund(refundId, 'SUCCESS');
    expect(await channels.wechat.server.sendRefundNotification(notify.wechat, refundId)).toEqual({
      status: 204,
      body: '',
    });
    const refund = await client.request<Json>('GET', `/v1/refunds/${refundId}`);
    expect(refund.body).toMatchObject({ status: 'SUCCEEDED', channel_refund_no: atWechat?.refund_id });
    expect(refund.body.completed_at).toMatch(/Z$/);
    expect(await balanceOf(accountId)).toMatchObject({ available: '70.00', frozen: '0.00' });
    expect(await paymentOf(id)).toMatchObject({ status: 'PARTIALLY_REFUNDED', refunded_amount: '30.00' });
    const ledger = await ledgerOf(accountId);
    expect(ledger.map((entry) => [entry.type, entry.amount])).toEqual([
      ['REFUND_DEDUCT', '30.00'],
      ['REFUND_FREEZE', '30.00'],
      ['RECHARGE', '100.00'],
    ]);

    expect(await channels.wechat.server.sendRefundNotification(notify.wechat, refundId)).toEqual({
      status: 204,
      body: '',
    });
    expect(await ledgerOf(accountId)).toEqual(ledger);
    expect(await balanceOf(accountId)).toMatchObject({ available: '70.00', frozen: '0.00' });
  });
});

/** A QR payment body as the handler parses it, for the use-case level. */
function qrBody(orderNo = uniqueId('ORD')) {
  return parseInput(createPaymentSchema({ allowLoopbackHttp: true }), {
    order_no: orderNo,
    amount: '10.00',
    subject: 'Wallet top-up',
    method: 'QR',
  });
}

/**
 * The gateway's use cases on a container of their own (same table, same channel configuration), with a clock
 * `offsetMs` ahead and a deterministic routing draw (best score first).
 */
function useCaseDeps(options: { offsetMs?: number; sandbox?: boolean } = {}) {
  const base = createContainer(
    loadConfig({ ...process.env, SANDBOX_ENABLED: options.sandbox === false ? 'false' : 'true' }),
  );
  const clock = () => new Date(Date.now() + (options.offsetMs ?? 0));
  return { ...base, clock, router: { ...base.router, clock, random: () => 0 } };
}

describe('routing and the shared breaker with real channels', () => {
  let merchant: Merchant;
  beforeAll(async () => {
    ({ merchant } = await newMerchant(stack.container));
  });
  beforeEach(resetBreakers);

  it('moves unnamed payments past a failing Alipay, stops trying it after the breaker threshold, then returns after one probe', async () => {
    const breaker = stack.container.channelHealth.breaker;
    const proxy = channels.alipay.proxy;
    channels.alipay.server.behaviours[PRECREATE] = { kind: 'http-500' };

    // Over HTTP: every payment tried at Alipay moves on to the next candidate and creates nothing there — no
    // merchant sees a failure — until the breaker opens.
    let triedAtAlipay = 0;
    for (let attempt = 1; triedAtAlipay < breaker.failureThreshold; attempt++) {
      expect(attempt).toBeLessThanOrEqual(breaker.failureThreshold + 40);
      const seen = proxy.requests.length;
      const answer = await createQr({});
      expect(answer.status).toBe(201);
      expect(['WECHAT_PAY', 'SANDBOX']).toContain(answer.body.channel);
      if (proxy.requests.length > seen) {
        expect(proxy.requests.slice(seen)).toEqual([PRECREATE]);
        expect(answer.body.routing_attempts).toEqual([
          { channel: 'ALIPAY', outcome: 'OUTAGE', reason: 'http_status', latency_ms: expect.any(Number) },
        ]);
        expect(channels.alipay.server.trades.has(String(answer.body.id))).toBe(false);
        triedAtAlipay += 1;
      } else {
        expect(answer.body).not.toHaveProperty('routing_attempts');
      }
    }
    expect(await storedBreaker('ALIPAY')).toMatchObject({
      status: 'OPEN',
      consecutiveFailures: breaker.failureThreshold,
    });

    // The breaker is open: no payment goes to Alipay and no request reaches it.
    const reached = proxy.requests.length;
    const skipped: unknown[] = [];
    for (let payment = 0; payment < 8; payment++) {
      const answer = await createQr({});
      expect(answer.status).toBe(201);
      expect(answer.body).not.toHaveProperty('routing_attempts');
      skipped.push(answer.body.channel);
    }
    expect(skipped.every((channel) => channel === 'WECHAT_PAY' || channel === 'SANDBOX')).toBe(true);
    expect(skipped).toContain('WECHAT_PAY');
    expect(proxy.requests.length).toBe(reached);

    // After the cool-down (a clock ahead, at the use-case level) and with Alipay healed: of concurrent payments
    // exactly one is Alipay's probe, held in flight while the others go elsewhere.
    delete channels.alipay.server.behaviours[PRECREATE];
    const later = useCaseDeps({ offsetMs: breaker.coolDownMs + 1_000 });
    const release = proxy.hold();
    let settled = 0;
    const racing = Array.from({ length: 4 }, () =>
      createPayment(later, merchant, qrBody()).finally(() => {
        settled += 1;
      }),
    );
    try {
      await vi.waitFor(
        () => {
          expect(settled).toBe(3);
          expect(proxy.requests.length).toBe(reached + 1);
        },
        { timeout: 20_000, interval: 20 },
      );
    } finally {
      release();
    }
    const results = await Promise.all(racing);
    expect(results.map((result) => result.payment.channel).sort()).toEqual([
      'ALIPAY',
      'WECHAT_PAY',
      'WECHAT_PAY',
      'WECHAT_PAY',
    ]);
    expect(proxy.requests.slice(reached)).toEqual([PRECREATE]);
    const probe = results.find((result) => result.payment.channel === 'ALIPAY')?.payment;
    expect(probe?.qrCode).toBe(channels.alipay.server.trades.get(probe?.id ?? '')?.qrCode);
    expect(await storedBreaker('ALIPAY')).toMatchObject({ status: 'CLOSED', consecutiveFailures: 0 });

    // The probe's success closed the breaker: Alipay takes payments again.
    const next = await createPayment(later, merchant, qrBody());
    expect(next.payment.channel).toBe('ALIPAY');
    expect(proxy.requests.slice(reached)).toEqual([PRECREATE, PRECREATE]);

    // Over HTTP too, once the gateway's own cached view of the breaker (TTL 1 s) has caught up.
    const deadline = Date.now() + 60_000;
    let chosen: unknown;
    while (chosen !== 'ALIPAY' && Date.now() < deadline) {
      const answer = await createQr({});
      expect(answer.status).toBe(201);
      chosen = answer.body.channel;
      if (chosen !== 'ALIPAY') await sleep(100);
    }
    expect(chosen).toBe('ALIPAY');
    expect(proxy.requests.slice(reached)).toEqual([PRECREATE, PRECREATE, PRECREATE]);
  }, 120_000);

  it('answers the last 503 CHANNEL_UNAVAILABLE when every candidate fails, then NO_CHANNEL_AVAILABLE once their breakers are open', async () => {
    const deps = useCaseDeps({ sandbox: false });
    expect(deps.router.channels.has('SANDBOX')).toBe(false);
    const { failureThreshold } = deps.channelHealth.breaker;
    channels.alipay.server.behaviours[PRECREATE] = { kind: 'http-500' };
    channels.wechat.server.behaviours.native = 'http500';
    const ordersBefore = channels.wechat.server.orders.size;

    // Each payment is tried at Alipay (best score), then at WeChat Pay: it fails with the last outage, WeChat Pay's.
    const orderNos: string[] = [];
    for (let attempt = 0; attempt < failureThreshold; attempt++) {
      const orderNo = uniqueId('ORD');
      orderNos.push(orderNo);
      const seen = channels.alipay.proxy.requests.length;
      const error = await createPayment(deps, merchant, qrBody(orderNo)).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'CHANNEL_UNAVAILABLE', httpStatus: 503 });
      expect(String((error as Error).message)).toMatch(/^WeChat Pay unavailable/);
      expect(channels.alipay.proxy.requests.slice(seen)).toEqual([PRECREATE]);
    }
    expect(await storedBreaker('ALIPAY')).toMatchObject({ status: 'OPEN' });
    expect(await storedBreaker('WECHAT_PAY')).toMatchObject({ status: 'OPEN' });

    const reached = channels.alipay.proxy.requests.length;
    const lastOrder = uniqueId('ORD');
    orderNos.push(lastOrder);
    const refused = await createPayment(deps, merchant, qrBody(lastOrder)).catch((caught: unknown) => caught);
    expect(refused).toMatchObject({ code: 'NO_CHANNEL_AVAILABLE', httpStatus: 503 });
    expect(channels.alipay.proxy.requests.length).toBe(reached);
    expect(channels.wechat.server.orders.size).toBe(ordersBefore);
    for (const orderNo of orderNos) expect(await deps.payments.findByOrderNo(merchant.id, orderNo)).toBeUndefined();
  }, 60_000);
});
