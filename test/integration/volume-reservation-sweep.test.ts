import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { channelKeys } from '#adapters/dynamo/channel-keys.ts';
import { expireBucket } from '#app/expire-payments.ts';
import { relayChange } from '#app/outbox-relay.ts';
import type { PaymentChannel } from '#app/ports.ts';
import { utcDay } from '#app/routing.ts';
import { sweepVolumeReservation } from '#app/volume-sweep.ts';
import { dailyVolumeShards, RESERVATION_SWEEP_AFTER_MS, reservationEntry } from '#domain/daily-volume.ts';
import { expiryBucket } from '#domain/expiry.ts';
import { paymentFixture } from '../support/domain-fixtures.ts';
import { testContainer, uniqueId } from '../support/fixtures.ts';
import { minuteTimerDeps } from '../support/minute-timer.ts';

/**
 * A routed payment's channel daily-volume reservation and its sweep (DynamoDB Local, injected clock): the reservation
 * writes its record in its own transaction, the creating transaction confirms (removes) it, and a record nothing
 * confirmed — the process died between the two — is given back by the minute timer of its sweep minute, exactly once.
 */
const container = testContainer();
const LIMIT = 100_000_000;

function sweepDeps() {
  const { deps, clock, armed } = minuteTimerDeps(container, container.channels.get('SANDBOX') as PaymentChannel);
  const counted: string[] = [];
  return { deps: { ...deps, alarms: { count: (name: string) => counted.push(name) } }, clock, armed, counted };
}

/** Reserves `amountMinor` of ALIPAY's volume of the clock's (far, own) day for a new payment id, as routing does. */
async function reserve(now: Date, amountMinor: number) {
  const paymentId = uniqueId('pay');
  const key = { channel: 'ALIPAY' as const, day: utcDay(now), currency: 'CNY' };
  const reserved = await container.dailyVolume.reserveDailyVolume(key, amountMinor, LIMIT, paymentId, now);
  if (reserved === false) throw new Error('refused');
  return { paymentId, key, amountMinor, entry: reservationEntry(paymentId, 'ALIPAY'), ...reserved };
}

/** The reservation's record as stored (the stream's new image of its insert); undefined once removed. */
async function record(entry: string) {
  const { Item } = await container.db.send(
    new GetCommand({
      TableName: container.config.tableName,
      Key: channelKeys.volumeReservation(entry),
      ConsistentRead: true,
    }),
  );
  return Item;
}

const endOf = (bucket: string) => new Date(Date.parse(`${bucket}:00.000Z`) + 60_000);

describe('daily-volume reservations no payment confirmed (DynamoDB Local, injected clock)', () => {
  it('are given back by the timer of their sweep minute, which the relay arms — exactly once, however often it runs', {
    timeout: 120_000,
  }, async () => {
    const { deps, clock, armed, counted } = sweepDeps();
    const reservedAt = clock.now;
    expect(dailyVolumeShards(utcDay(reservedAt))).toBeGreaterThan(1); // a sharded day: shares on their counters
    const held = await reserve(reservedAt, 5_000);
    expect(held.shares?.reduce((sum, share) => sum + share.amountMinor, 0)).toBe(5_000);
    const image = await record(held.entry);
    const sweepAt = new Date(reservedAt.getTime() + RESERVATION_SWEEP_AFTER_MS).toISOString();
    expect(image).toMatchObject({
      entity: 'VOLUME_RESERVATION',
      paymentId: held.paymentId,
      amountMinor: 5_000,
      sweepAt,
    });
    const bucket = expiryBucket(sweepAt);
    expect((await container.expiryIndex.listPending(bucket, 100)).paymentIds).toEqual([held.entry]);

    // Its insert, relayed: the sweep minute's timer armed (the process that reserved may be dead by then).
    await relayChange(deps, { kind: 'INSERT', item: image ?? {} });
    expect(armed).toEqual([bucket]);

    // Not given back before it is due (a creation may still be under way).
    clock.now = new Date(Date.parse(sweepAt) - 1_000);
    expect(await sweepVolumeReservation(deps, held.entry)).toBe('skipped');
    expect(await container.dailyVolume.dailyTotal(held.key)).toBe(5_000);

    // The minute's timer, five times at once (retries, duplicates): given back once.
    clock.now = endOf(bucket);
    const runs = await Promise.all(Array.from({ length: 5 }, () => expireBucket(deps, bucket)));
    expect(runs.reduce((sum, run) => sum + run.released, 0)).toBe(1);
    expect(await container.dailyVolume.dailyTotal(held.key)).toBe(0);
    expect(await record(held.entry)).toBeUndefined();
    expect((await container.expiryIndex.listPending(bucket, 100)).paymentIds).toEqual([]);
    expect(counted).toEqual(['VolumeReservationSwept']);
    // A late release by the process that made it (it came back) gives nothing back twice.
    expect(await container.dailyVolume.releaseDailyVolume(held)).toBe(false);
    expect(await container.dailyVolume.dailyTotal(held.key)).toBe(0);
  });

  it('stay with a payment created with them; a creation after the sweep gave its reservation back fails', {
    timeout: 120_000,
  }, async () => {
    const { deps, clock } = sweepDeps();
    const now = clock.now;
    const kept = await reserve(now, 7_000);
    const payment = (id: string) =>
      paymentFixture({
        id,
        orderNo: uniqueId('ORD'),
        channel: 'ALIPAY',
        amountMinor: 7_000,
        channelVolume: { day: kept.key.day, amountMinor: 7_000, ...(kept.shares ? { shares: kept.shares } : {}) },
      });
    await container.store.commit({
      payments: [{ payment: payment(kept.paymentId), expectedVersion: 0 }],
      confirmVolume: { paymentId: kept.paymentId, channel: 'ALIPAY' },
    });
    expect(await record(kept.entry)).toBeUndefined(); // confirmed with the payment

    const swept = await reserve(now, 7_000);
    expect(await container.dailyVolume.dailyTotal(kept.key)).toBe(14_000);
    clock.now = endOf(expiryBucket(new Date(now.getTime() + RESERVATION_SWEEP_AFTER_MS).toISOString()));
    expect(await sweepVolumeReservation(deps, kept.entry)).toBe('skipped');
    expect(await sweepVolumeReservation(deps, swept.entry)).toBe('released');
    expect(await container.dailyVolume.dailyTotal(kept.key)).toBe(7_000); // the created payment's stays

    // The (impossibly slow) creation of the swept one cannot commit with a reservation it no longer holds.
    await expect(
      container.store.commit({
        payments: [{ payment: payment(swept.paymentId), expectedVersion: 0 }],
        confirmVolume: { paymentId: swept.paymentId, channel: 'ALIPAY' },
      }),
    ).rejects.toThrow();
    expect(await container.payments.get(swept.paymentId)).toBeUndefined();
    expect(await container.dailyVolume.dailyTotal(kept.key)).toBe(7_000);
  });
});
