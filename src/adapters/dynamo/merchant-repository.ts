import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type MerchantRepository, StaleStateError } from '#app/ports.ts';
import type { AuditRecord } from '#domain/audit.ts';
import type { Merchant } from '#domain/merchant.ts';
import { auditPut } from './audit-log.ts';
import { asStaleOnConflict, fromItem } from './items.ts';
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

  async create(merchant: Merchant, audit?: AuditRecord): Promise<boolean> {
    try {
      await this.write(
        {
          TableName: this.tableName,
          Item: { ...keys.merchant(merchant.id), entity: 'MERCHANT', ...merchant },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
        audit,
      );
      return true;
    } catch (error) {
      if (error instanceof StaleStateError) return false;
      throw error;
    }
  }

  async update(merchant: Merchant, expectedUpdatedAt: string, audit?: AuditRecord): Promise<void> {
    await this.write(
      {
        TableName: this.tableName,
        Item: { ...keys.merchant(merchant.id), entity: 'MERCHANT', ...merchant },
        ConditionExpression: 'updatedAt = :expected',
        ExpressionAttributeValues: { ':expected': expectedUpdatedAt },
      },
      audit,
    );
  }

  /** The conditional put and its audit entry in ONE transaction; a failed condition is `StaleStateError`. */
  private async write(
    put: NonNullable<TransactWriteCommandInput['TransactItems']>[number]['Put'],
    audit?: AuditRecord,
  ) {
    await asStaleOnConflict(() =>
      this.db.send(
        new TransactWriteCommand({
          TransactItems: [{ Put: put }, ...(audit ? [auditPut(this.tableName, audit)] : [])],
        }),
      ),
    );
  }
}
