import { type DynamoDBDocumentClient, GetCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { type MerchantRepository, StaleStateError } from '#app/ports.ts';
import type { AuditRecord } from '#domain/audit.ts';
import type { Merchant } from '#domain/merchant.ts';
import { TtlCache } from '#shared/ttl-cache.ts';
import { auditPut } from './audit-log.ts';
import { fromItem, transactOrStale } from './items.ts';
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
    await transactOrStale(this.db, [{ Put: put }, ...(audit ? [auditPut(this.tableName, audit)] : [])]);
  }
}

/**
 * A merchant repository whose reads are served from this container's memory for `ttlMs` (the merchant profile is
 * read by every authenticated request: uncached, the largest merchant's item is one hot key; bench section 11). Its
 * own writes drop the id's copy; other containers' writes are seen within `ttlMs`. Bounded to `maxEntries` merchants.
 */
export class CachedMerchantRepository implements MerchantRepository {
  private readonly cache: TtlCache<Merchant | undefined>;

  constructor(
    private readonly inner: MerchantRepository,
    ttlMs: number,
    now: () => number = () => performance.now(),
    maxEntries = 1000,
  ) {
    this.cache = new TtlCache(ttlMs, now, maxEntries);
  }

  async get(id: string): Promise<Merchant | undefined> {
    return this.cache.get(id, () => this.inner.get(id));
  }

  async create(merchant: Merchant, audit?: AuditRecord): Promise<boolean> {
    try {
      return await this.inner.create(merchant, audit);
    } finally {
      this.cache.drop(merchant.id);
    }
  }

  async update(merchant: Merchant, expectedUpdatedAt: string, audit?: AuditRecord): Promise<void> {
    try {
      await this.inner.update(merchant, expectedUpdatedAt, audit);
    } finally {
      this.cache.drop(merchant.id);
    }
  }
}

/** The merchant repository of a wiring: cached for `ttlMs` when that is above 0. */
export function merchantRepository(db: DynamoDBDocumentClient, tableName: string, ttlMs: number): MerchantRepository {
  const repository = new DynamoMerchantRepository(db, tableName);
  return ttlMs > 0 ? new CachedMerchantRepository(repository, ttlMs) : repository;
}
