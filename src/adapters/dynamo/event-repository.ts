import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type EventRepository, type ListingMerchant, type ListQuery, StaleStateError } from '#app/ports.ts';
import type { AuditRecord } from '#domain/audit.ts';
import type { EventType } from '#domain/events.ts';
import type { DeliveryAttempt, DeliveryStatus, StoredEvent } from '#domain/notification.ts';
import { ValidationError } from '#shared/errors.ts';
import { auditPut } from './audit-log.ts';
import { fromItem, transactOrStale, ttlSeconds } from './items.ts';
import { keys } from './keys.ts';
import { equalityFilter, listingOf, listMerchantItems } from './merchant-listing.ts';

/** How long delivery attempts are kept (the event itself stays). */
const ATTEMPT_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;

const encodeCursor = (key: Record<string, unknown>) => Buffer.from(JSON.stringify(key)).toString('base64url');

/** A cursor is client input: anything but one of ours is `400 VALIDATION_FAILED`, never a 500. */
function decodeCursor(cursor: string, partition: string): Record<string, unknown> {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (key?.PK === partition && typeof key.SK === 'string' && key.SK.startsWith('ATTEMPT#')) {
      return { PK: key.PK, SK: key.SK };
    }
  } catch {}
  throw new ValidationError('VALIDATION_FAILED', 'cursor: not a cursor this API returned');
}

/** Outbox events (`EVENT#{id}`/`EVENT`) and their attempts (`EVENT#{id}`/`ATTEMPT#{at}#{n}`) in one partition. */
export class DynamoEventRepository implements EventRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(eventId: string): Promise<StoredEvent | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.event(eventId), ConsistentRead: true }),
    );
    return Item ? fromItem<StoredEvent>(Item) : undefined;
  }

  list(merchant: ListingMerchant, query: ListQuery, filter: { type?: EventType; deliveryStatus?: DeliveryStatus }) {
    return listMerchantItems<StoredEvent>(
      this.db,
      this.tableName,
      listingOf(merchant, 'events'),
      query,
      equalityFilter({ type: filter.type, deliveryStatus: filter.deliveryStatus }),
    );
  }

  async listAttempts(eventId: string, { limit, cursor }: { limit: number; cursor?: string }) {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :attempt)',
        ExpressionAttributeValues: { ':pk': keys.event(eventId).PK, ':attempt': 'ATTEMPT#' },
        ConsistentRead: true,
        ScanIndexForward: false,
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: decodeCursor(cursor, keys.event(eventId).PK) } : {}),
      }),
    );
    const attempts = (page.Items ?? []).map((item) => fromItem<DeliveryAttempt>(item));
    return page.LastEvaluatedKey ? { attempts, cursor: encodeCursor(page.LastEvaluatedKey) } : { attempts };
  }

  async recordAttempt(attempt: DeliveryAttempt, delivered: boolean): Promise<void> {
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            // Keyed by time plus a random suffix: concurrent attempts (a duplicate SQS delivery, a replay) never
            // collide, and the partition reads back in time order.
            Put: {
              TableName: this.tableName,
              Item: {
                ...keys.eventAttempt(attempt.eventId, attempt.at),
                entity: 'EVENT_ATTEMPT',
                ...attempt,
                // The history is bounded in time too: DynamoDB's TTL removes attempts after the retention.
                ttl: ttlSeconds(new Date(Date.parse(attempt.at) + ATTEMPT_RETENTION_MS)),
              },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          {
            Update: {
              TableName: this.tableName,
              Key: keys.event(attempt.eventId),
              UpdateExpression: delivered
                ? 'ADD attempts :one SET deliveryStatus = :delivered, deliveredAt = if_not_exists(deliveredAt, :at)'
                : 'ADD attempts :one',
              ConditionExpression: 'attribute_exists(PK)',
              ExpressionAttributeValues: {
                ':one': 1,
                ...(delivered ? { ':delivered': 'DELIVERED', ':at': attempt.at } : {}),
              },
            },
          },
        ],
      }),
    );
  }

  async markFailed(eventId: string, at: string): Promise<void> {
    await this.setStatusUnlessDelivered(eventId, 'FAILED', { failedAt: at });
  }

  async markNoEndpoint(eventId: string): Promise<void> {
    await this.setStatusUnlessDelivered(eventId, 'NO_ENDPOINT', {});
  }

  async claimReplay(seen: StoredEvent, window: { start: string; count: number }, audit: AuditRecord) {
    try {
      await transactOrStale(this.db, [
        {
          Update: {
            TableName: this.tableName,
            Key: keys.event(seen.id),
            UpdateExpression: 'SET deliveryStatus = :pending, replayWindowStart = :start, replayCount = :count',
            ConditionExpression: seen.replayWindowStart
              ? 'deliveryStatus = :seen AND replayWindowStart = :seenStart AND replayCount = :seenCount'
              : 'deliveryStatus = :seen AND attribute_not_exists(replayWindowStart)',
            ExpressionAttributeValues: {
              ':pending': 'PENDING',
              ':start': window.start,
              ':count': window.count,
              ':seen': seen.deliveryStatus,
              ...(seen.replayWindowStart
                ? { ':seenStart': seen.replayWindowStart, ':seenCount': seen.replayCount ?? 0 }
                : {}),
            },
          },
        },
        auditPut(this.tableName, audit),
      ]);
      return true;
    } catch (error) {
      if (error instanceof StaleStateError) return false;
      throw error;
    }
  }

  /** A delivered event stays delivered: a late "give up" or replay bookkeeping never hides a success. */
  private async setStatusUnlessDelivered(eventId: string, status: string, extra: Record<string, string>) {
    const names = Object.keys(extra);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.event(eventId),
          UpdateExpression: `SET deliveryStatus = :status${names.map((name) => `, ${name} = :${name}`).join('')}`,
          ConditionExpression: 'attribute_exists(PK) AND deliveryStatus <> :delivered',
          ExpressionAttributeValues: {
            ':status': status,
            ':delivered': 'DELIVERED',
            ...Object.fromEntries(names.map((name) => [`:${name}`, extra[name]])),
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
