import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ExpiryIndex } from '#app/ports.ts';
import { expiryPartition } from './keys.ts';

/**
 * GSI3, the sparse expiry index: a payment carries `GSI3PK = EXPIRY#{minute}` only while it is `PENDING`, so a
 * bucket's query returns exactly the orders a timer may have to close. (GSIs are eventually consistent: callers
 * re-read each payment before acting.)
 */
export class DynamoExpiryIndex implements ExpiryIndex {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async listPending(bucket: string, limit: number, cursor?: string) {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'GSI3',
        KeyConditionExpression: 'GSI3PK = :bucket',
        ExpressionAttributeValues: { ':bucket': expiryPartition(bucket) },
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) } : {}),
      }),
    );
    const paymentIds = (page.Items ?? []).map((item) => String(item.GSI3SK));
    return page.LastEvaluatedKey
      ? { paymentIds, cursor: Buffer.from(JSON.stringify(page.LastEvaluatedKey)).toString('base64url') }
      : { paymentIds };
  }
}
