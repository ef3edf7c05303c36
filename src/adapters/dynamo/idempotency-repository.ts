import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyRecord, IdempotencyRepository } from '#app/ports.ts';
import { keys } from './keys.ts';

/** Reads `Idempotency-Key` claims; they are written inside the transaction of the change they guard. */
export class DynamoIdempotencyRepository implements IdempotencyRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date,
  ) {}

  async find(merchantId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.idempotency(merchantId, key), ConsistentRead: true }),
    );
    if (!Item || Number(Item.ttl) * 1000 < this.clock().getTime()) return undefined;
    return { requestHash: String(Item.requestHash), resourceId: String(Item.resourceId) };
  }
}
