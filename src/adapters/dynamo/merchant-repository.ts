import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type MerchantRepository, StaleStateError } from '#app/ports.ts';
import type { Merchant } from '#domain/merchant.ts';
import { fromItem } from './items.ts';
import { keys } from './keys.ts';

/** Merchant profiles (secrets stored as ciphertext only). */
export class DynamoMerchantRepository implements MerchantRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(id: string): Promise<Merchant | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.merchant(id) }));
    return Item ? fromItem<Merchant>(Item) : undefined;
  }

  async create(merchant: Merchant): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.merchant(merchant.id), entity: 'MERCHANT', ...merchant },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async update(merchant: Merchant, expectedUpdatedAt: string): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.merchant(merchant.id), entity: 'MERCHANT', ...merchant },
          ConditionExpression: 'updatedAt = :expected',
          ExpressionAttributeValues: { ':expected': expectedUpdatedAt },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new StaleStateError('merchant changed concurrently');
      throw error;
    }
  }
}
