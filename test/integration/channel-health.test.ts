import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoChannelHealthRepository } from '#adapters/dynamo/channel-health-repository.ts';
import { DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import { DynamoDailyVolumeRepository } from '#adapters/dynamo/daily-volume-repository.ts';
import type { PaymentChannel } from '#app/ports.ts';
import { type ChannelRouter, routeChannel, withBreaker } from '#app/routing.ts';
import { DEFAULT_BREAKER_CONFIG } from '#domain/circuit-breaker.ts';
import type { Channel, Payment } from '#domain/payment.ts';
import { UnavailableError } from '#shared/errors.ts';
import { fakeChannel, profileOf } from '../support/channel-fakes.ts';
import { channelTable } from '../support/channel-table.ts';

const N = DEFAULT_BREAKER_CONFIG.failureThreshold;
const COOL_DOWN = DEFAULT_BREAKER_CONFIG.coolDownMs;
const T0 = Date.parse('2025-11-24T10:00:00.000Z');

let table: Awaited<ReturnType<typeof channelTable>>;
/** Two "containers": separate repository instances (no cache, so each sees the table exactly). */
let a: DynamoChannelHealthRepository;
let b: DynamoChannelHealthRepository;

beforeEach(async () => {
  table = await channelTable();
  a = new DynamoChannelHealthRepository(table.db, table.tableName, { cacheTtlMs: 0 });
  b = new DynamoChannelHealthRepository(table.db, table.tableName, { cacheTtlMs: 0 });
});
afterEach(() => table.drop());

async function status(repo: DynamoChannelHealthRepository, channel: Channel) {
  return (await repo.read([channel])).get(channel);
}

describe('shared circuit breaker (DynamoDB Local)', () => {
  it('N failures through one container make the other see the channel OPEN', async () => {
    for (let i = 0; i < N; i++) await a.recordFailure('ALIPAY', new Date(T0 + i));
    expect(await status(b, 'ALIPAY')).toMatchObject({ status: 'OPEN', consecutiveFailures: N });
    expect(await b.claimProbe('ALIPAY', new Date(T0 + COOL_DOWN - 1))).toBe(false);
  });

  it('loses no outcome when both containers record at once', async () => {
    const now = new Date(T0);
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        i % 2 ? a.recordSuccess('WECHAT_PAY', 100, now) : b.recordSuccess('WECHAT_PAY', 100, now),
      ),
    );
    const state = await status(a, 'WECHAT_PAY');
    expect(state?.buckets.reduce((sum, bucket) => sum + bucket.successes, 0)).toBe(16);
  });

  it('after the cool-down exactly one of many concurrent callers gets the probe; its success closes it for all', async () => {
    for (let i = 0; i < N; i++) await a.recordFailure('ALIPAY', new Date(T0));
    const later = new Date(T0 + COOL_DOWN);
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claimProbe('ALIPAY', later)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await status(b, 'ALIPAY')).toMatchObject({ status: 'HALF_OPEN' });
    await a.recordSuccess('ALIPAY', 80, new Date(T0 + COOL_DOWN + 100));
    expect(await status(b, 'ALIPAY')).toMatchObject({ status: 'CLOSED', consecutiveFailures: 0 });
  });

  it('a cached read is served for its TTL, and this container’s writes refresh it', async () => {
    const cached = new DynamoChannelHealthRepository(table.db, table.tableName, { cacheTtlMs: 60_000 });
    expect(await status(cached, 'ALIPAY')).toMatchObject({ status: 'CLOSED' });
    for (let i = 0; i < N; i++) await a.recordFailure('ALIPAY', new Date(T0));
    expect(await status(cached, 'ALIPAY')).toMatchObject({ status: 'CLOSED' });
    await cached.recordFailure('ALIPAY', new Date(T0));
    expect(await status(cached, 'ALIPAY')).toMatchObject({ status: 'OPEN', consecutiveFailures: N + 1 });
  });
});

describe('successes held per container (bounded breaker writes)', () => {
  const totals = async (channel: Channel) => {
    const state = await status(b, channel);
    const sum = (field: 'successes' | 'failures') =>
      (state?.buckets ?? []).reduce((total, bucket) => total + bucket[field], 0);
    return { successes: sum('successes'), failures: sum('failures'), consecutiveFailures: state?.consecutiveFailures };
  };

  it("writes a healthy channel's successes once per interval, at once with a failure, and at once after one", async () => {
    const held = new DynamoChannelHealthRepository(table.db, table.tableName, {
      cacheTtlMs: 60_000,
      successFlushMs: 1000,
    });
    await held.read(['WECHAT_PAY']);
    for (let i = 0; i < 10; i++) await held.recordSuccess('WECHAT_PAY', 100, new Date(T0 + i * 50));
    expect(await totals('WECHAT_PAY')).toEqual({ successes: 0, failures: 0, consecutiveFailures: 0 });
    await held.recordSuccess('WECHAT_PAY', 100, new Date(T0 + 1000));
    expect(await totals('WECHAT_PAY')).toMatchObject({ successes: 11, failures: 0 });
    for (let i = 1; i <= 3; i++) await held.recordSuccess('WECHAT_PAY', 100, new Date(T0 + 1000 + i * 10));
    await held.recordFailure('WECHAT_PAY', new Date(T0 + 1100));
    expect(await totals('WECHAT_PAY')).toEqual({ successes: 14, failures: 1, consecutiveFailures: 1 });
    await held.recordSuccess('WECHAT_PAY', 100, new Date(T0 + 1200));
    expect(await totals('WECHAT_PAY')).toEqual({ successes: 15, failures: 1, consecutiveFailures: 0 });
  });

  it('writes every success at once when this container has not seen the channel healthy', async () => {
    const held = new DynamoChannelHealthRepository(table.db, table.tableName, {
      cacheTtlMs: 60_000,
      successFlushMs: 1000,
    });
    await held.recordSuccess('ALIPAY', 100, new Date(T0));
    expect(await totals('ALIPAY')).toMatchObject({ successes: 1 });
  });
});

describe('routing with the shared breaker (DynamoDB Local, injected clock)', () => {
  it('skips a failing channel within N requests and returns to it after the cool-down', async () => {
    let now = T0;
    let alipayDown = true;
    const outage = () => Promise.reject(new UnavailableError('CHANNEL_UNAVAILABLE', 'connect timeout'));
    const channels = new Map<Channel, PaymentChannel>([
      ['ALIPAY', fakeChannel('ALIPAY', ['QR'], ['CNY'], () => (alipayDown ? outage() : Promise.resolve({})))],
      ['WECHAT_PAY', fakeChannel('WECHAT_PAY', ['QR'], ['CNY'])],
    ]);
    const profiles = new DynamoChannelProfileRepository(table.db, table.tableName);
    await profiles.put(profileOf('ALIPAY', { weight: 9 }), null);
    await profiles.put(profileOf('WECHAT_PAY', { weight: 1 }), null);
    const container = (health: DynamoChannelHealthRepository): ChannelRouter => ({
      channels,
      profiles,
      health,
      volume: new DynamoDailyVolumeRepository(table.db, table.tableName),
      clock: () => new Date(now),
      random: () => 0,
    });
    const routers = [container(a), container(b)];
    const pay = async (i: number): Promise<Channel> => {
      const router = routers[i % 2] as ChannelRouter;
      const { channel } = await routeChannel(router, {
        method: 'QR',
        currency: 'CNY',
        amountMinor: 100,
        paymentId: `pay_${i}`,
      });
      const clock = router.clock;
      await withBreaker(channel.code, router.health, () => channel.createPayment({} as Payment), { clock }).catch(
        () => undefined,
      );
      now += 10;
      return channel.code;
    };

    const chosen: Channel[] = [];
    for (let i = 0; i < 3 * N; i++) chosen.push(await pay(i));
    expect(chosen.filter((code) => code === 'ALIPAY')).toHaveLength(N);
    expect(chosen.slice(N)).toEqual(Array(2 * N).fill('WECHAT_PAY'));

    alipayDown = false;
    now = T0 + COOL_DOWN + 1_000;
    expect(await pay(0)).toBe('ALIPAY');
    expect(await status(b, 'ALIPAY')).toMatchObject({ status: 'CLOSED' });
    expect([await pay(1), await pay(2)]).toEqual(['ALIPAY', 'ALIPAY']);
  });
});
