import { describe, expect, it } from 'vitest';
import { AlipayResponseInvalidError, AlipayUnavailableError } from '#adapters/channels/alipay/errors.ts';
import { WechatPayBusinessError, WechatPayUnavailableError } from '#adapters/channels/wechat-pay/errors.ts';
import { prepayWithFailover } from '#app/channel-failover.ts';
import type { PaymentChannel } from '#app/ports.ts';
import { type ChannelRouter, routeCandidates } from '#app/routing.ts';
import type { Channel, Payment } from '#domain/payment.ts';
import {
  fakeChannel,
  InMemoryChannelHealth,
  InMemoryDailyVolume,
  InMemoryProfiles,
  profileOf,
} from '../support/channel-fakes.ts';

const T0 = Date.parse('2025-11-24T10:00:00.000Z');
const request = { method: 'QR' as const, currency: 'CNY', amountMinor: 10_000, paymentId: 'pay_1' };
const KEY = { day: '2025-11-24', currency: 'CNY' };

/** ALIPAY (weight 9, tried first with random 0) and WECHAT_PAY (weight 1), both with a daily limit. */
function setup(alipay: Partial<PaymentChannel>, wechat: Partial<PaymentChannel> = {}) {
  const channel = (code: Channel, overrides: Partial<PaymentChannel>) => ({
    ...fakeChannel(code, ['QR'], ['CNY']),
    ...overrides,
  });
  const router = {
    channels: new Map<Channel, PaymentChannel>([
      ['ALIPAY', channel('ALIPAY', alipay)],
      ['WECHAT_PAY', channel('WECHAT_PAY', wechat)],
    ]),
    profiles: new InMemoryProfiles([
      profileOf('ALIPAY', { weight: 9, methods: ['QR'], dailyLimitMinor: 1_000_000 }),
      profileOf('WECHAT_PAY', { weight: 1, methods: ['QR'], dailyLimitMinor: 1_000_000 }),
    ]),
    health: new InMemoryChannelHealth(),
    volume: new InMemoryDailyVolume(),
    clock: () => new Date(T0),
    random: () => 0,
  } satisfies ChannelRouter;
  const draftFor = (taken: PaymentChannel) => ({ id: 'pay_1', channel: taken.code }) as Payment;
  const run = async (body: typeof request & { channel?: Channel }, budgetMs?: number) =>
    prepayWithFailover({ router, clock: router.clock }, await routeCandidates(router, body), body, draftFor, budgetMs);
  return { router, run };
}

describe('prepayWithFailover', () => {
  it('moves a routed payment past an outage, records it, and gives the failed channel its volume back', async () => {
    const { router, run } = setup({
      createPayment: () => Promise.reject(new AlipayUnavailableError('http_status', 'HTTP 500', 500)),
    });
    const prepaid = await run(request);
    expect(prepaid.channel.code).toBe('WECHAT_PAY');
    expect(prepaid.draft.routingAttempts).toEqual([
      { channel: 'ALIPAY', outcome: 'OUTAGE', reason: 'http_status', latencyMs: expect.any(Number) },
    ]);
    expect(router.health.state('ALIPAY').consecutiveFailures).toBe(1);
    expect(await router.volume.dailyTotal({ channel: 'ALIPAY', ...KEY })).toBe(0);
    expect(await router.volume.dailyTotal({ channel: 'WECHAT_PAY', ...KEY })).toBe(10_000);
  });

  it.each([
    ['timed out', new AlipayUnavailableError('timeout', 'timed out'), 'timeout'],
    ['answered unverifiably', new AlipayResponseInvalidError('signature does not verify'), 'CHANNEL_RESPONSE_INVALID'],
  ])('counts a channel that %s as a failure, closes the order there and moves on', async (_, error, reason) => {
    const closed: string[] = [];
    const { router, run } = setup({
      createPayment: () => Promise.reject(error),
      closePayment: async (payment) => {
        closed.push(payment.id);
        return 'closed';
      },
    });
    const prepaid = await run(request);
    expect(prepaid.channel.code).toBe('WECHAT_PAY');
    expect(closed).toEqual(['pay_1']);
    expect(prepaid.draft.routingAttempts).toMatchObject([{ channel: 'ALIPAY', outcome: 'CLOSED', reason }]);
    expect(router.health.state('ALIPAY').consecutiveFailures).toBe(1);
  });

  it('stays put when the order behind an untrusted answer cannot be closed', async () => {
    const invalid = new AlipayResponseInvalidError('signature does not verify');
    const { run } = setup({
      createPayment: () => Promise.reject(invalid),
      closePayment: () => Promise.reject(new AlipayUnavailableError('http_status', 'HTTP 500', 500)),
    });
    await expect(run(request)).rejects.toBe(invalid);
  });

  it('stays put with a 503 when the order that timed out cannot be closed', async () => {
    const wechatCalls: string[] = [];
    const timeout = new AlipayUnavailableError('timeout', 'timed out');
    const { router, run } = setup(
      {
        createPayment: () => Promise.reject(timeout),
        closePayment: () => Promise.reject(new AlipayUnavailableError('network', 'refused')),
      },
      {
        createPayment: async (payment) => {
          wechatCalls.push(payment.id);
          return {};
        },
      },
    );
    await expect(run(request)).rejects.toBe(timeout);
    expect(wechatCalls).toEqual([]);
    expect(await router.volume.dailyTotal({ channel: 'ALIPAY', ...KEY })).toBe(0);
  });

  it('never moves a named channel, nor a payment the channel refused', async () => {
    const outage = new AlipayUnavailableError('network', 'refused');
    const named = setup({ createPayment: () => Promise.reject(outage) });
    await expect(named.run({ ...request, channel: 'ALIPAY' })).rejects.toBe(outage);
    const refusal = new WechatPayBusinessError(400, 'PARAM_ERROR', 'bad');
    const refused = setup({ createPayment: () => Promise.reject(refusal) });
    await expect(refused.run(request)).rejects.toBe(refusal);
  });

  it('tries no further candidate once the time budget is spent', async () => {
    const outage = new AlipayUnavailableError('http_status', 'HTTP 500', 500);
    const { run } = setup({ createPayment: () => Promise.reject(outage) });
    await expect(run(request, 0)).rejects.toBe(outage);
  });

  it('answers the last outage when every candidate is down', async () => {
    const last = new WechatPayUnavailableError('http_status', 'HTTP 503', 503);
    const { run } = setup(
      { createPayment: () => Promise.reject(new AlipayUnavailableError('http_status', 'HTTP 500', 500)) },
      { createPayment: () => Promise.reject(last) },
    );
    await expect(run(request)).rejects.toBe(last);
  });
});
