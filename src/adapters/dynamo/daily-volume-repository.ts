import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { DailyVolume, DailyVolumeKey, VolumeReservation } from '#app/ports.ts';
import { dailyVolumeShards, MAX_SHARES, reservationEntry, reservationSweepAt } from '#domain/daily-volume.ts';
import type { Channel } from '#domain/payment.ts';
import { pickShard, reservedParts, type Share, shardCap, splitShares } from '#domain/sharded-limit.ts';
import { channelKeys, dailyTotalAttribute } from './channel-keys.ts';
import { CONFLICT_ATTEMPTS, cancellationReasons, consistentTotals, retryOnConflict, ttlSeconds } from './items.ts';
import { volumeReservationIndexes } from './keys.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Daily counters are kept a few days after their day (reconciliation and support look at them), then expire. */
const KEEP_DAYS = 7;

/** A split reservation that loses a race to another one is planned again this many times, then refused. */
const SPLIT_ATTEMPTS = 3;

/**
 * Per-channel, per-UTC-day volume counters (one `total_{CUR}` attribute per currency). A day before sharding has one
 * counter (`CHANNEL#{code}` / `DAILY#{day}`); a sharded day has N (`VOLUME#{code}#{day}#{k}`, `DAILY_VOLUME_PLAN`),
 * counter k limited to its share of the limit (`shardCap`: the shares sum to the limit). A reservation is ONE
 * transaction: a conditional `ADD total :amount` if `total <= cap - amount` on one counter (a random one on a sharded
 * day) and the reservation's record (`VOLRES#{entry}`: payment, channel, day, shares; in GSI3's bucket of its sweep
 * minute); only when that counter lacks room, it reads every counter of the day and takes the amount from those with
 * the most room, each part conditional the same way, with the record, in one transaction. No number of concurrent
 * reservations can take the day over its limit; one is refused only when the counters together lack room (or it lost
 * its split 3 times). The record goes in the payment's creating transaction (`confirmVolume`) or — never both — in
 * the release that gives the shares back ({@link releaseDailyVolume}).
 */
export class DynamoDailyVolumeRepository implements DailyVolume {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly random: () => number = Math.random,
  ) {}

  async reserveDailyVolume(
    key: DailyVolumeKey,
    amountMinor: number,
    limitMinor: number,
    paymentId: string,
    now: Date,
  ): Promise<{ shares?: Share[] } | false> {
    assertAmount(amountMinor);
    if (amountMinor > limitMinor) return false;
    const record = (shares?: Share[]) => this.recordPut(key, amountMinor, paymentId, now, shares);
    const shards = dailyVolumeShards(key.day);
    if (shards === 1) return (await this.take(key, undefined, amountMinor, limitMinor, record())) ? {} : false;
    const shard = pickShard(shards, this.random);
    const one = [{ shard, amountMinor }];
    if (await this.take(key, shard, amountMinor, shardCap(limitMinor, shards, shard), record(one))) {
      return { shares: one };
    }
    for (let attempt = 0; attempt < SPLIT_ATTEMPTS; attempt++) {
      const shares = splitShares(await this.totals(key, shards), limitMinor, amountMinor, MAX_SHARES);
      if (!shares) return false;
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              ...shares.map((share) => ({
                Update: this.takeUpdate(key, share.shard, share.amountMinor, shardCap(limitMinor, shards, share.shard)),
              })),
              { Put: record(shares) },
            ],
          }),
        );
        return { shares };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
      }
    }
    return false;
  }

  async releaseDailyVolume(reservation: VolumeReservation): Promise<boolean> {
    const { key, amountMinor, shares, paymentId } = reservation;
    assertAmount(amountMinor);
    const entry = reservationEntry(paymentId, key.channel);
    const items = [
      {
        Delete: {
          TableName: this.tableName,
          Key: channelKeys.volumeReservation(entry),
          ConditionExpression: 'attribute_exists(PK)',
        },
      },
      // The record proves the shares were added and not given back yet: the subtraction needs no condition of its own.
      ...reservedParts(amountMinor, shares).map(({ shard, amountMinor: part }) => ({
        Update: {
          TableName: this.tableName,
          Key: channelKeys.daily(key.channel, key.day, shard),
          UpdateExpression: 'ADD #total :negative',
          ExpressionAttributeNames: { '#total': dailyTotalAttribute(key.currency) },
          ExpressionAttributeValues: { ':negative': -part },
        },
      })),
    ];
    // The record is gone: already given back, or confirmed by its payment's creation — nothing to give back.
    return (await this.transact(items)) === 'done';
  }

  async unconfirmedReservation(entry: string): Promise<(VolumeReservation & { sweepAt: string }) | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: channelKeys.volumeReservation(entry), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      paymentId: String(Item.paymentId),
      key: { channel: Item.channel as Channel, day: String(Item.day), currency: String(Item.currency) },
      amountMinor: Number(Item.amountMinor),
      ...(Item.shares ? { shares: Item.shares as Share[] } : {}),
      sweepAt: String(Item.sweepAt),
    };
  }

  /** The day's reserved total: the sum of its counters (strongly consistent reads). */
  async dailyTotal(key: DailyVolumeKey): Promise<number> {
    const shards = dailyVolumeShards(key.day);
    const totals = await this.totals(key, shards);
    return totals.reduce((sum, total) => sum + total, 0);
  }

  /** One conditional ADD on one counter (`shard` undefined: the unsharded one) with the record; false when it lacks room. */
  private async take(
    key: DailyVolumeKey,
    shard: number | undefined,
    amountMinor: number,
    capMinor: number,
    record: ReturnType<DynamoDailyVolumeRepository['recordPut']>,
  ): Promise<boolean> {
    if (amountMinor > capMinor) return false;
    return (
      (await this.transact([{ Update: this.takeUpdate(key, shard, amountMinor, capMinor) }, { Put: record }])) ===
      'done'
    );
  }

  /**
   * The record of a reservation: what the sweep needs to give it back, in GSI3's bucket of its sweep minute (the
   * minute timer's), kept no longer than the day's counters. New only: a payment reserves once per channel.
   */
  private recordPut(
    key: DailyVolumeKey,
    amountMinor: number,
    paymentId: string,
    now: Date,
    shares: Share[] | undefined,
  ) {
    const entry = reservationEntry(paymentId, key.channel);
    const sweepAt = reservationSweepAt(now);
    return {
      TableName: this.tableName,
      Item: {
        ...channelKeys.volumeReservation(entry),
        entity: 'VOLUME_RESERVATION',
        paymentId,
        channel: key.channel,
        day: key.day,
        currency: key.currency,
        amountMinor,
        ...(shares ? { shares } : {}),
        reservedAt: now.toISOString(),
        sweepAt,
        ttl: expiry(key.day),
        ...volumeReservationIndexes.bySweepMinute(sweepAt, entry),
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    };
  }

  /**
   * One transaction whose first item is conditional: `done`, or `refused` when that condition failed. Cancelled only
   * by concurrent transactions on its items (a hot counter), it is tried again after a short random wait.
   */
  private async transact(items: TransactItem[]): Promise<'done' | 'refused'> {
    try {
      const send = () => this.db.send(new TransactWriteCommand({ TransactItems: items }));
      await retryOnConflict(send, CONFLICT_ATTEMPTS, this.random);
      return 'done';
    } catch (error) {
      if (error instanceof TransactionCanceledException && cancellationReasons(error)[0] === 'ConditionalCheckFailed') {
        return 'refused';
      }
      throw error;
    }
  }

  private takeUpdate(key: DailyVolumeKey, shard: number | undefined, amountMinor: number, capMinor: number) {
    return {
      TableName: this.tableName,
      Key: channelKeys.daily(key.channel, key.day, shard),
      UpdateExpression: 'SET #entity = :entity, #ttl = if_not_exists(#ttl, :ttl) ADD #total :amount',
      ConditionExpression: 'attribute_not_exists(#total) OR #total <= :max',
      ExpressionAttributeNames: { '#entity': 'entity', '#ttl': 'ttl', '#total': dailyTotalAttribute(key.currency) },
      ExpressionAttributeValues: {
        ':entity': 'CHANNEL_DAILY',
        ':ttl': expiry(key.day),
        ':amount': amountMinor,
        ':max': capMinor - amountMinor,
      },
    };
  }

  /** Every counter's total of the day (one for an unsharded day), by shard, strongly consistent. */
  private totals(key: DailyVolumeKey, shards: number): Promise<number[]> {
    const keys = Array.from({ length: shards }, (_, shard) =>
      channelKeys.daily(key.channel, key.day, shards === 1 ? undefined : shard),
    );
    return consistentTotals(this.db, this.tableName, keys, dailyTotalAttribute(key.currency));
  }
}

function assertAmount(amountMinor: number): void {
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) {
    throw new Error(`a daily volume amount must be a positive integer of minor units, not ${amountMinor}`);
  }
}

function expiry(day: string): number {
  const start = Date.parse(`${day}T00:00:00.000Z`);
  if (Number.isNaN(start)) throw new Error(`not a UTC day: ${day}`);
  return ttlSeconds(new Date(start + (KEEP_DAYS + 1) * 86_400_000));
}
