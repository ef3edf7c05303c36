import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlipayChannel } from '#adapters/channels/alipay/alipay-channel.ts';
import { createContainer } from '#adapters/container.ts';
import { createPayment } from '#app/create-payment.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import type { PaymentChannel } from '#app/ports.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Channel } from '#domain/payment.ts';
import { loadConfig } from '#shared/config.ts';
import type { MerchantClient } from '../../local/merchant-client.ts';
import { newMerchant, uniqueId } from '../support/fixtures.ts';
import { createQrPayment, type RealChannelStack, startRealChannelStack } from '../support/real-channel-stack.ts';
import { callbackUrls, type LocalChannels } from '../support/real-channels.ts';

type Json = Record<string, unknown>;
type ErrorBody = { error: { code: string; message: string } };

/** Alipay is tried first for most routed payments (best score), so its outages are met. */
const WEIGHTS = { ALIPAY: 100, WECHAT_PAY: 10 };
const PRECREATE = 'alipay.trade.precreate';
const CLOSE = 'alipay.trade.close';

let real: RealChannelStack;
let channels: LocalChannels;
let stack: RealChannelStack['stack'];
let client: MerchantClient;
let merchant: Merchant;

beforeAll(async () => {
  real = await startRealChannelStack(WEIGHTS);
  ({ channels, stack } = real);
  // Live merchants (the default): the sandbox, enabled in this stack, never takes their routed payments.
  ({ client } = await stack.newClient());
  ({ merchant } = await newMerchant(stack.container));
}, 120_000);

afterAll(() => real?.stop());

beforeEach(() => real.resetBreakers());

afterEach(() => real.resetBehaviours());

const createQr = (fields: Json = {}) => createQrPayment(client, fields);

const findByOrderNo = (orderNo: string) => client.request<Json & ErrorBody>('GET', `/v1/payments?order_no=${orderNo}`);

function qrBody(orderNo = uniqueId('ORD')) {
  return parseInput(createPaymentSchema({ allowLoopbackHttp: true }), {
    order_no: orderNo,
    amount: '10.00',
    subject: 'Wallet top-up',
    method: 'QR',
  });
}

/**
 * The gateway's use cases with an impatient Alipay adapter (these tests are about its timeout) and the best-scored
 * candidate first: Alipay. The same adapter then closes the timed-out order, a call that must succeed however busy the
 * machine is: the timeout is long enough for that, and short next to the tests' bounds (a hang costs it once).
 */
function impatientAlipayDeps() {
  const base = createContainer(loadConfig(process.env));
  const { alipay } = channels;
  const impatient = new AlipayChannel(
    {
      appId: alipay.appId,
      gatewayUrl: alipay.gatewayUrl,
      notifyUrl: callbackUrls(stack.apiBase).alipay,
      ...alipay.secret,
    },
    { timeoutMs: 5_000 },
  );
  const map = new Map<Channel, PaymentChannel>(base.channels).set('ALIPAY', impatient);
  return { ...base, channels: map, router: { ...base.router, channels: map, random: () => 0 } };
}

/** The out_trade_no of every `alipay.trade.close` the local Alipay server verified. */
function closedAtAlipay(): string[] {
  return channels.alipay.server.requests
    .filter((request) => request.method === CLOSE)
    .map((request) => String(JSON.parse(request.params.biz_content ?? '{}').out_trade_no));
}

describe('failover within the request (two local channel servers)', () => {
  it('takes every routed payment on WeChat Pay while Alipay answers 500 to every create: no merchant sees a failure', async () => {
    channels.alipay.server.behaviours[PRECREATE] = { kind: 'http-500' };
    const proxy = channels.alipay.proxy;
    let metAlipayOutage = 0;
    for (let payment = 0; payment < 12; payment++) {
      const seen = proxy.requests.length;
      const answer = await createQr();
      expect(answer.status).toBe(201);
      expect(answer.body.channel).toBe('WECHAT_PAY');
      if (proxy.requests.length > seen) {
        expect(answer.body.routing_attempts).toEqual([
          { channel: 'ALIPAY', outcome: 'OUTAGE', reason: 'http_status', latency_ms: expect.any(Number) },
        ]);
        metAlipayOutage += 1;
      } else {
        expect(answer.body).not.toHaveProperty('routing_attempts');
      }
      const stored = await client.request<Json>('GET', `/v1/payments/${String(answer.body.id)}`);
      expect(stored.body.routing_attempts).toEqual(answer.body.routing_attempts);
    }
    expect(metAlipayOutage).toBeGreaterThan(0);
  }, 120_000);

  it('answers 503 CHANNEL_UNAVAILABLE and creates nothing when both channels fail', async () => {
    channels.alipay.server.behaviours[PRECREATE] = { kind: 'http-500' };
    channels.wechat.server.behaviours.native = 'http500';
    const ordersBefore = channels.wechat.server.orders.size;
    const orderNo = uniqueId('ORD');
    const answer = await createQr({ order_no: orderNo });
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('CHANNEL_UNAVAILABLE');
    expect((await findByOrderNo(orderNo)).status).toBe(404);
    expect(channels.wechat.server.orders.size).toBe(ordersBefore);
  }, 60_000);

  it('never moves a payment that names its channel: a failing Alipay answers 503, WeChat Pay is not asked', async () => {
    channels.alipay.server.behaviours[PRECREATE] = { kind: 'http-500' };
    const ordersBefore = channels.wechat.server.orders.size;
    const orderNo = uniqueId('ORD');
    const answer = await createQr({ order_no: orderNo, channel: 'ALIPAY' });
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('CHANNEL_UNAVAILABLE');
    expect(answer.body.error.message).toMatch(/^Alipay unavailable/);
    expect(channels.wechat.server.orders.size).toBe(ordersBefore);
    expect((await findByOrderNo(orderNo)).status).toBe(404);
  }, 60_000);

  it('closes the order at Alipay after a create timed out there, then takes the payment on WeChat Pay', async () => {
    channels.alipay.server.behaviours[PRECREATE] = { kind: 'hang' };
    const { payment } = await createPayment(impatientAlipayDeps(), merchant, qrBody());
    expect(payment.channel).toBe('WECHAT_PAY');
    expect(payment.routingAttempts).toEqual([
      { channel: 'ALIPAY', outcome: 'CLOSED', reason: 'timeout', latencyMs: expect.any(Number) },
    ]);
    expect(closedAtAlipay()).toContain(payment.id);
    expect(channels.wechat.server.orders.has(payment.id.slice('pay_'.length))).toBe(true);
  }, 60_000);

  it('closes the order at Alipay when its answer to the create does not verify, then takes the payment on WeChat Pay', async () => {
    channels.alipay.server.behaviours[PRECREATE] = { kind: 'bad-signature' };
    // Routing draws at random (Alipay ~10:1): create until one payment met Alipay.
    let answer = await createQr();
    for (let tries = 1; tries < 20 && !answer.body.routing_attempts; tries++) answer = await createQr();
    expect(answer.status).toBe(201);
    expect(answer.body.channel).toBe('WECHAT_PAY');
    expect(answer.body.routing_attempts).toEqual([
      { channel: 'ALIPAY', outcome: 'CLOSED', reason: 'CHANNEL_RESPONSE_INVALID', latency_ms: expect.any(Number) },
    ]);
    expect(closedAtAlipay()).toContain(String(answer.body.id));
  }, 60_000);

  it('answers 503 and creates nothing at WeChat Pay when the timed-out order cannot be closed at Alipay', async () => {
    channels.alipay.server.behaviours[PRECREATE] = { kind: 'hang' };
    channels.alipay.server.behaviours[CLOSE] = { kind: 'http-500' };
    const deps = impatientAlipayDeps();
    const ordersBefore = channels.wechat.server.orders.size;
    const orderNo = uniqueId('ORD');
    const error = await createPayment(deps, merchant, qrBody(orderNo)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'CHANNEL_UNAVAILABLE', httpStatus: 503, reason: 'timeout' });
    expect(channels.alipay.proxy.requests.slice(-2)).toEqual([PRECREATE, CLOSE]);
    expect(channels.wechat.server.orders.size).toBe(ordersBefore);
    expect(await deps.payments.findByOrderNo(merchant.id, orderNo)).toBeUndefined();
  }, 60_000);
});
