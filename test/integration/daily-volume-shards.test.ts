import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelKeys, dailyTotalAttribute } from '#adapters/dynamo/channel-keys.ts';
import { DynamoDailyVolumeRepository } from '#adapters/dynamo/daily-volume-repository.ts';
import { DynamoTransactionStore } from '#adapters/dynamo/transaction-store.ts';
import { DAILY_VOLUME_PLAN } from '#domain/daily-volume.ts';
import type { PaymentStatus } from '#domain/payment.ts';
import { counterChanges } from '#domain/risk-limits.ts';
import { shardCap } from '#domain/sharded-limit.ts';
import { channelTable } from '../support/channel-table.ts';
import { paymentFixture } from '../support/domain-fixtures.ts';
import { uniqueId } from '../support/fixtures.ts';

/**
 * A sharded day's routed volume on DynamoDB Local: racing reservations never take the day over its limit, whatever
 * counters they land on or split over; a release gives each share back to its own counter once. A table of its own:
 * channel counters are keyed by channel code and day, which every file would share.
 */
const DAY = '2027-01-15';
const SHARDS = DAILY_VOLUME_PLAN.at(-1)?.shards ?? 1;
let own: Awaited<ReturnType<typeof channelTable>>;
beforeAll(async () => {
  own = await channelTable();
}, 60_000);
afterAll(() => own?.drop());

describe('sharded daily volume (DynamoDB Local)', () => {
  it('admits no more than the limit when 40 routed payments race, and exactly up to it afterwards', async () => {
    expect(SHARDS).toBeGreaterThan(1);
    const volume = new DynamoDailyVolumeRepository(own.db, own.tableName);
    const key = { channel: 'ALIPAY' as const, day: DAY, currency: 'CNY' };
    const limit = 100_000; // ~781 per counter: every 7,000 reservation is split over several counters
    const reserve = (amountMinor: number) =>
      volume.reserveDailyVolume(key, amountMinor, limit, uniqueId('pay'), new Date());
    const results = await Promise.all(Array.from({ length: 40 }, () => reserve(7_000)));
    const admitted = results.filter((result) => result !== false);
    expect(admitted.length).toBeLessThanOrEqual(14);
    expect(await volume.dailyTotal(key)).toBe(admitted.length * 7_000);
    for (const result of admitted) {
      expect(result.shares?.reduce((sum, share) => sum + share.amountMinor, 0)).toBe(7_000);
    }
    // Uncontended, a reservation is refused only when the counters together lack room: top it up to the limit exactly.
    while ((await reserve(7_000)) !== false);
    const left = limit - (await volume.dailyTotal(key));
    expect(left).toBeLessThan(7_000);
    expect(await reserve(left + 1)).toBe(false);
    expect(await reserve(left)).not.toBe(false);
    expect(await volume.dailyTotal(key)).toBe(limit);
  }, 300_000);

  it('takes a payment that fits one counter from one random counter, and gives every share back to its own', async () => {
    const draws = [0.5, 0.5];
    const volume = new DynamoDailyVolumeRepository(own.db, own.tableName, () => draws.shift() ?? 0.25);
    const key = { channel: 'WECHAT_PAY' as const, day: DAY, currency: 'CNY' };
    const limit = SHARDS * 1_000_000; // 1,000,000 per counter
    const ids = [uniqueId('pay'), uniqueId('pay'), uniqueId('pay')];
    const one = await volume.reserveDailyVolume(key, 600_000, limit, ids[0] ?? '', new Date());
    expect(one).toEqual({ shares: [{ shard: SHARDS / 2, amountMinor: 600_000 }] });
    // The same counter lacks room for another 600,000: it is split, from the counters with the most room.
    const split = await volume.reserveDailyVolume(key, 600_000, limit, ids[1] ?? '', new Date());
    expect(split).not.toBe(false);
    if (split === false || one === false) throw new Error('refused');
    expect(split.shares).toHaveLength(1);
    expect(split.shares?.[0]?.shard).not.toBe(SHARDS / 2);
    expect(await volume.dailyTotal(key)).toBe(1_200_000);
    await volume.releaseDailyVolume({ paymentId: ids[1] ?? '', key, amountMinor: 600_000, shares: split.shares });
    await volume.releaseDailyVolume({ paymentId: ids[0] ?? '', key, amountMinor: 600_000, shares: one.shares });
    expect(await volume.dailyTotal(key)).toBe(0);
    // A payment larger than any one counter's share is taken across several, in one transaction.
    const large = await volume.reserveDailyVolume(key, 2_500_000, limit, ids[2] ?? '', new Date());
    if (large === false) throw new Error('refused');
    expect(large.shares?.length).toBe(3);
    for (const share of large.shares ?? [])
      expect(share.amountMinor).toBeLessThanOrEqual(shardCap(limit, SHARDS, share.shard));
    await volume.releaseDailyVolume({ paymentId: ids[2] ?? '', key, amountMinor: 2_500_000, shares: large.shares });
    expect(await volume.dailyTotal(key)).toBe(0);
  }, 120_000);

  it('gives each share of a split reservation back to its own counter in the transition that closes the payment, once', async () => {
    const volume = new DynamoDailyVolumeRepository(own.db, own.tableName);
    const store = new DynamoTransactionStore(own.db, own.tableName, () => new Date());
    const key = { channel: 'ALIPAY' as const, day: '2027-02-20', currency: 'CNY' };
    const limit = SHARDS * 1_000_000;
    const reserved = await volume.reserveDailyVolume(key, 2_500_000, limit, uniqueId('pay'), new Date());
    if (reserved === false) throw new Error('refused');
    const shares = reserved.shares ?? [];
    expect(shares.length).toBeGreaterThan(1);
    const counter = async (shard: number) =>
      Number(
        (
          await own.db.send(
            new GetCommand({
              TableName: own.tableName,
              Key: channelKeys.daily(key.channel, key.day, shard),
              ConsistentRead: true,
            }),
          )
        ).Item?.[dailyTotalAttribute(key.currency)] ?? 0,
      );
    const open = paymentFixture({
      channel: 'ALIPAY',
      amountMinor: 2_500_000,
      channelVolume: { day: key.day, amountMinor: 2_500_000, shares },
    });
    const transition = (status: PaymentStatus) => counterChanges(open, { ...open, status, version: open.version + 1 });
    // The close's transaction carries one delta per share, each on the counter the share was taken from.
    await store.commit({ counters: transition('CLOSED') });
    for (const share of shares) expect(await counter(share.shard)).toBe(0);
    expect(await volume.dailyTotal(key)).toBe(0);
    // A transition that keeps the payment open or paid moves nothing.
    expect(transition('SUCCEEDED')).toEqual([]);
  }, 300_000);
});
