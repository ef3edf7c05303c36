import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { NonceStore } from '#app/ports.ts';
import { ttlSeconds } from './items.ts';
import { keys } from './keys.ts';

/**
 * Request nonces, remembered until they expire. TTL deletion is lazy (up to days), so an expired item left in the
 * table is treated as free by the condition rather than relying on TTL timing.
 */
export class DynamoNonceStore implements NonceStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(merchantId: string, nonce: string, expiresAt: Date, now: Date): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.nonce(merchantId, nonce), entity: 'NONCE', ttl: ttlSeconds(expiresAt) },
          ConditionExpression: 'attribute_not_exists(PK) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': ttlSeconds(now) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
