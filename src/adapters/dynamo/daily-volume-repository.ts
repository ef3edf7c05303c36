import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DailyVolume, DailyVolumeKey } from '#app/ports.ts';
import { channelKeys, dailyTotalAttribute } from './channel-keys.ts';
import { ttlSeconds } from './items.ts';

/** Daily counters are kept a few days after their day (reconciliation and support look at them), then expire. */
const KEEP_DAYS = 7;

/**
 * Per-channel, per-UTC-day volume counters (`CHANNEL#{code}` / `DAILY#{yyyy-mm-dd}`, one `total_{CUR}` attribute per
 * currency). A reservation is ONE `UpdateItem`: `ADD total :amount` with the condition `total <= limit - amount`
 * (DynamoDB conditions cannot add, so the subtraction is done here), so no number of concurrent reservations can
 * take the day over its limit.
 */
export class DynamoDailyVolumeRepository implements DailyVolume {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async reserveDailyVolume(key: DailyVolumeKey, amountMinor: number, limitMinor: number): Promise<boolean> {
    assertAmount(amountMinor);
    if (amountMinor > limitMinor) return false;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: channelKeys.daily(key.channel, key.day),
          UpdateExpression: 'SET #entity = :entity, #ttl = if_not_exists(#ttl, :ttl) ADD #total :amount',
          ConditionExpression: 'attribute_not_exists(#total) OR #total <= :max',
          ExpressionAttributeNames: { '#entity': 'entity', '#ttl': 'ttl', '#total': dailyTotalAttribute(key.currency) },
          ExpressionAttributeValues: {
            ':entity': 'CHANNEL_DAILY',
            ':ttl': expiry(key.day),
            ':amount': amountMinor,
            ':max': limitMinor - amountMinor,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async releaseDailyVolume(key: DailyVolumeKey, amountMinor: number): Promise<void> {
    assertAmount(amountMinor);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: channelKeys.daily(key.channel, key.day),
          UpdateExpression: 'ADD #total :negative',
          ConditionExpression: '#total >= :amount',
          ExpressionAttributeNames: { '#total': dailyTotalAttribute(key.currency) },
          ExpressionAttributeValues: { ':negative': -amountMinor, ':amount': amountMinor },
        }),
      );
    } catch (error) {
      // Nothing (or less) reserved: there is nothing to give back; the total never goes below zero.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async dailyTotal(key: DailyVolumeKey): Promise<number> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: channelKeys.daily(key.channel, key.day),
        ConsistentRead: true,
      }),
    );
    return Number(Item?.[dailyTotalAttribute(key.currency)] ?? 0);
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
