import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { EventRepository } from '#app/ports.ts';
import type { DeliveryAttempt, StoredEvent } from '#domain/notification.ts';
import { fromItem } from './items.ts';
import { keys } from './keys.ts';

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

  async listAttempts(eventId: string): Promise<DeliveryAttempt[]> {
    const attempts: DeliveryAttempt[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :attempt)',
          ExpressionAttributeValues: { ':pk': keys.event(eventId).PK, ':attempt': 'ATTEMPT#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) attempts.push(fromItem<DeliveryAttempt>(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return attempts;
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

  async reopen(eventId: string): Promise<void> {
    await this.setStatusUnlessDelivered(eventId, 'PENDING', {});
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
