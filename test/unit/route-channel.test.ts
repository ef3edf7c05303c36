import { describe, expect, it } from 'vitest';
import { AlipayBusinessError, AlipayUnavailableError } from '#adapters/channels/alipay/errors.ts';
import { WechatPayBusinessError, WechatPayUnavailableError } from '#adapters/channels/wechat-pay/errors.ts';
import type { PaymentChannel } from '#app/ports.ts';
import { type ChannelRouter, isChannelOutage, routeChannel, withBreaker } from '#app/routing.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import { DEFAULT_BREAKER_CONFIG } from '#domain/circuit-breaker.ts';
import type { Channel } from '#domain/payment.ts';
import { AppError, ChannelRejectedError, UnavailableError, ValidationError } from '#shared/errors.ts';
import {
  fakeChannel,
  InMemoryChannelHealth,
  InMemoryDailyVolume,
  InMemoryProfiles,
  profileOf,
} from '../support/channel-fakes.ts';
import { expectCode } from './expect-error.ts';

const T0 = Date.parse('2025-11-24T10:00:00.000Z');

function router(profiles: ChannelProfile[], channels: PaymentChannel[]) {
  let now = T0;
  const deps = {
    channels: new Map<Channel, PaymentChannel>(channels.map((channel) => [channel.code, channel])),
    profiles: new InMemoryProfiles(profiles),
    health: new InMemoryChannelHealth(),
    volume: new InMemoryDailyVolume(),
    clock: () => new Date(now),
    random: () => 0,
  } satisfies ChannelRouter;
  return { deps, advance: (ms: number) => (now += ms) };
}

const alipay = fakeChannel('ALIPAY', ['QR', 'PAGE'], ['CNY']);
const wechat = fakeChannel('WECHAT_PAY', ['QR', 'JSAPI'], ['CNY']);
const sandbox = fakeChannel('SANDBOX', ['QR', 'PAGE'], ['CNY', 'USD']);
// A test-mode merchant's payment: the sandbox takes part in routing (a live merchant's never does, see below).
const payment = { method: 'QR' as const, currency: 'CNY', amountMinor: 10_000, testMode: true, paymentId: 'pay_1' };

async function trip(health: InMemoryChannelHealth, channel: Channel, at: number): Promise<void> {
  for (let i = 0; i < DEFAULT_BREAKER_CONFIG.failureThreshold; i++) await health.recordFailure(channel, new Date(at));
}

describe('routeChannel', () => {
  it('keeps the named-channel rules; a named external channel needs an enabled profile', async () => {
    const { deps } = router([profileOf('ALIPAY', { enabled: false }), profileOf('WECHAT_PAY')], [alipay, wechat]);
    await expect(routeChannel(deps, { ...payment, channel: 'WECHAT_PAY' })).resolves.toMatchObject({
      channel: { code: 'WECHAT_PAY' },
    });
    await expect(routeChannel(deps, { ...payment, channel: 'ALIPAY' })).rejects.toMatchObject({
      code: 'CHANNEL_NOT_SUPPORTED',
    });
    await expect(routeChannel(deps, { ...payment, channel: 'SANDBOX' })).rejects.toBeInstanceOf(ValidationError);
    const bare = router([], [alipay, sandbox]).deps;
    await expect(routeChannel(bare, { ...payment, channel: 'ALIPAY' })).rejects.toMatchObject({
      code: 'CHANNEL_NOT_SUPPORTED',
    });
    expect((await routeChannel(bare, payment)).channel.code).toBe('SANDBOX');
    expect((await routeChannel(bare, { ...payment, channel: 'SANDBOX' })).channel.code).toBe('SANDBOX');
  });

  it("never routes a live merchant's payment to the sandbox, though it may name it", async () => {
    const live = { ...payment, testMode: false };
    const { deps } = router([profileOf('ALIPAY', { singleLimitMinor: 5_000 })], [alipay, sandbox]);
    await expect(routeChannel(deps, live)).rejects.toMatchObject({ code: 'NO_CHANNEL_AVAILABLE' });
    expect((await routeChannel(deps, { ...live, amountMinor: 5_000 })).channel.code).toBe('ALIPAY');
    expect((await routeChannel(deps, { ...live, channel: 'SANDBOX' })).channel.code).toBe('SANDBOX');
  });

  it('filters candidates by profile: enabled, method, currency and single limit', async () => {
    const { deps } = router(
      [profileOf('ALIPAY', { singleLimitMinor: 5_000 }), profileOf('WECHAT_PAY', { methods: ['JSAPI'] })],
      [alipay, wechat, sandbox],
    );
    expect((await routeChannel(deps, payment)).channel.code).toBe('SANDBOX');
    expect((await routeChannel(deps, { ...payment, amountMinor: 5_000 })).channel.code).toBe('ALIPAY');
    expect((await routeChannel(deps, { ...payment, method: 'JSAPI' })).channel.code).toBe('WECHAT_PAY');
  });

  it('prefers the higher weight among healthy channels (random 0) and skips an OPEN breaker', async () => {
    const { deps } = router(
      [profileOf('ALIPAY', { weight: 5 }), profileOf('WECHAT_PAY', { weight: 1 })],
      [wechat, alipay],
    );
    expect((await routeChannel(deps, payment)).channel.code).toBe('ALIPAY');
    await trip(deps.health, 'ALIPAY', T0);
    expect((await routeChannel(deps, payment)).channel.code).toBe('WECHAT_PAY');
  });

  it('answers 503 NO_CHANNEL_AVAILABLE when every candidate is open or over its limits', async () => {
    const { deps } = router([profileOf('ALIPAY', { dailyLimitMinor: 15_000 })], [alipay]);
    await routeChannel(deps, payment);
    const error = await routeChannel(deps, payment).catch((e: unknown) => e);
    expectCode(
      () => {
        throw error;
      },
      UnavailableError,
      'NO_CHANNEL_AVAILABLE',
    );
    expect((error as AppError).httpStatus).toBe(503);
    await trip(deps.health, 'ALIPAY', T0);
    await expect(routeChannel(deps, { ...payment, amountMinor: 1 })).rejects.toMatchObject({
      code: 'NO_CHANNEL_AVAILABLE',
    });
  });

  it('sends the probe first after the cool-down, to exactly one caller', async () => {
    const { deps, advance } = router(
      [profileOf('ALIPAY', { weight: 1 }), profileOf('WECHAT_PAY', { weight: 9 })],
      [alipay, wechat],
    );
    await trip(deps.health, 'ALIPAY', T0);
    advance(DEFAULT_BREAKER_CONFIG.coolDownMs);
    const first = await routeChannel(deps, payment);
    expect(first).toMatchObject({ channel: { code: 'ALIPAY' } }); // the due probe comes first
    const second = await routeChannel(deps, payment);
    expect(second).toMatchObject({ channel: { code: 'WECHAT_PAY' } }); // the probe is taken: not twice
  });

  it('reserves the daily volume, and gives it back when the probe is lost', async () => {
    const { deps, advance } = router([profileOf('ALIPAY', { dailyLimitMinor: 100_000 })], [alipay, sandbox]);
    const decision = await routeChannel(deps, payment);
    expect(decision.reservation).toEqual({
      paymentId: 'pay_1',
      key: { channel: 'ALIPAY', day: '2025-11-24', currency: 'CNY' },
      amountMinor: 10_000,
    });
    await trip(deps.health, 'ALIPAY', T0);
    advance(DEFAULT_BREAKER_CONFIG.coolDownMs);
    deps.health.claimProbe = async () => false;
    expect((await routeChannel(deps, { ...payment, paymentId: 'pay_2' })).channel.code).toBe('SANDBOX');
    expect(await deps.volume.dailyTotal({ channel: 'ALIPAY', day: '2025-11-24', currency: 'CNY' })).toBe(10_000);
    expect([...deps.volume.held.keys()]).toEqual(['vol_pay_1.ALIPAY']); // the lost probe's record went with it
  });
});

describe('withBreaker', () => {
  const now = () => new Date(T0);

  it('records success with latency, failure on outages, success on business answers', async () => {
    const health = new InMemoryChannelHealth();
    await expect(withBreaker('ALIPAY', health, async () => 'ok', { clock: now })).resolves.toBe('ok');
    expect(health.state('ALIPAY').buckets[0]).toMatchObject({ successes: 1, failures: 0 });
    const outage = new UnavailableError('CHANNEL_UNAVAILABLE', 'timeout');
    await expect(withBreaker('ALIPAY', health, () => Promise.reject(outage), { clock: now })).rejects.toBe(outage);
    const rejected = new ChannelRejectedError('trade not found', {
      channel: 'ALIPAY',
      channel_code: 'TRADE_NOT_EXIST',
    });
    await expect(withBreaker('ALIPAY', health, () => Promise.reject(rejected), { clock: now })).rejects.toBe(rejected);
    expect(health.state('ALIPAY').buckets[0]).toMatchObject({ successes: 2, failures: 1 });
  });

  it('records nothing for an error that never reached the channel, so a misconfigured channel never looks healthy', async () => {
    const health = new InMemoryChannelHealth();
    const missingConfig = new Error('secret pay-gateway/channels/alipay not found');
    await expect(withBreaker('ALIPAY', health, () => Promise.reject(missingConfig), { clock: now })).rejects.toBe(
      missingConfig,
    );
    const invalidInput = new AppError('VALIDATION_FAILED', 400, 'metadata.wechat_openid is required');
    await expect(withBreaker('ALIPAY', health, () => Promise.reject(invalidInput), { clock: now })).rejects.toBe(
      invalidInput,
    );
    expect(health.state('ALIPAY').buckets).toEqual([]);
  });

  it('honours a custom predicate and never lets a recording error replace the result', async () => {
    const health = new InMemoryChannelHealth();
    health.recordSuccess = () => Promise.reject(new Error('dynamo down'));
    const seen: unknown[] = [];
    const value = await withBreaker('WECHAT_PAY', health, async () => 42, { onRecordError: (e) => seen.push(e) });
    expect(value).toBe(42);
    expect(seen).toHaveLength(1);
    await expect(
      withBreaker('WECHAT_PAY', health, () => Promise.reject(new Error('boom')), { isFailure: () => true, clock: now }),
    ).rejects.toThrow('boom');
    expect(health.state('WECHAT_PAY').consecutiveFailures).toBe(1);
  });

  it('classifies by class: only an UnavailableError is an outage', () => {
    expect(isChannelOutage(new UnavailableError('CHANNEL_UNAVAILABLE', 'down'))).toBe(true);
    expect(isChannelOutage(new AppError('CHANNEL_REJECTED', 502, 'no'))).toBe(false);
    expect(isChannelOutage(new ValidationError('VALIDATION_FAILED', 'x'))).toBe(false);
    // A raw transport error never reaches the breaker: the adapters wrap every one (their tests prove it).
    expect(isChannelOutage(new TypeError('fetch failed'))).toBe(false);
    expect(isChannelOutage(new Error('bug'))).toBe(false);
  });

  it("classifies the adapters' own errors: unavailable is an outage, a business answer is not", () => {
    expect(isChannelOutage(new AlipayUnavailableError('timeout', 'read timed out'))).toBe(true);
    expect(isChannelOutage(new WechatPayUnavailableError('http_status', '503', 503))).toBe(true);
    expect(isChannelOutage(new AlipayBusinessError('40004', 'ACQ.TRADE_NOT_EXIST', 'alipay.trade.query'))).toBe(false);
    expect(isChannelOutage(new WechatPayBusinessError(404, 'ORDER_NOT_EXIST', 'order not found'))).toBe(false);
  });
});
