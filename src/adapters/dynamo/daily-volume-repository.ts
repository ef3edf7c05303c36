import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DailyVolume, DailyVolumeKey } from '#app/ports.ts';
import { dailyVolumeShards, MAX_SHARES } from '#domain/daily-volume.ts';
import { pickShard, reservedParts, type Share, shardCap, splitShares } from '#domain/sharded-limit.ts';
import { channelKeys, dailyTotalAttribute } from './channel-keys.ts';
import { consistentTotals, ttlSeconds } from './items.ts';

/** Daily counters are kept a few days after their day (reconciliation and support look at them), then expire. */
const KEEP_DAYS = 7;

/** A split reservation that loses a race to another one is planned again this many times, then refused. */
const SPLIT_ATTEMPTS = 3;

/**
 * Per-channel, per-UTC-day volume counters (one `total_{CUR}` attribute per currency). A day before sharding has one
 * counter (`CHANNEL#{code}` / `DAILY#{day}`); a sharded day has N (`VOLUME#{code}#{day}#{k}`, `DAILY_VOLUME_PLAN`),
 * counter k limited to its share of the limit (`shardCap`: the shares sum to the limit). A reservation is ONE
 * conditional `UpdateItem` — `ADD total :amount` if `total <= cap - amount` — on one counter (a random one on a sharded
 * day); only when that counter lacks room, it reads every counter of the day and takes the amount from those with the
 * most room in ONE transaction, each part conditional the same way. No number of concurrent reservations can take the
 * day over its limit; one is refused only when the counters together lack room (or it lost its split 3 times).
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
  ): Promise<{ shares?: Share[] } | false> {
    assertAmount(amountMinor);
    if (amountMinor > limitMinor) return false;
    const shards = dailyVolumeShards(key.day);
    if (shards === 1) return (await this.take(key, undefined, amountMinor, limitMinor)) ? {} : false;
    const shard = pickShard(shards, this.random);
    if (await this.take(key, shard, amountMinor, shardCap(limitMinor, shards, shard))) {
      return { shares: [{ shard, amountMinor }] };
    }
    for (let attempt = 0; attempt < SPLIT_ATTEMPTS; attempt++) {
      const shares = splitShares(await this.totals(key, shards), limitMinor, amountMinor, MAX_SHARES);
      if (!shares) return false;
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: shares.map((share) => ({
              Update: this.takeUpdate(key, share.shard, share.amountMinor, shardCap(limitMinor, shards, share.shard)),
            })),
          }),
        );
        return { shares };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
      }
    }
    return false;
  }

  async releaseDailyVolume(key: DailyVolumeKey, amountMinor: number, shares?: readonly Share[]): Promise<void> {
    assertAmount(amountMinor);
    for (const { shard, amountMinor: part } of reservedParts(amountMinor, shares)) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: channelKeys.daily(key.channel, key.day, shard),
            UpdateExpression: 'ADD #total :negative',
            ConditionExpression: '#total >= :amount',
            ExpressionAttributeNames: { '#total': dailyTotalAttribute(key.currency) },
            ExpressionAttributeValues: { ':negative': -part, ':amount': part },
          }),
        );
      } catch (error) {
        // Nothing (or less) reserved: there is nothing to give back; the total never goes below zero.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }

  /** The day's reserved total: the sum of its counters (strongly consistent reads). */
  async dailyTotal(key: DailyVolumeKey): Promise<number> {
    const shards = dailyVolumeShards(key.day);
    const totals = await this.totals(key, shards);
    return totals.reduce((sum, total) => sum + total, 0);
  }

  /** One conditional ADD on one counter (`shard` undefined: the unsharded one); false when it lacks room. */
  private async take(key: DailyVolumeKey, shard: number | undefined, amountMinor: number, capMinor: number) {
    if (amountMinor > capMinor) return false;
    try {
      await this.db.send(new UpdateCommand(this.takeUpdate(key, shard, amountMinor, capMinor)));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
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
