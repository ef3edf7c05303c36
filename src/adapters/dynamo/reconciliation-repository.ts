import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ReconciliationRecord, ReconciliationStore } from '#app/ports.ts';
import type { Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { BATCH_GET_LIMIT, consistentBatchGet, fromItem } from './items.ts';
import {
  type Key,
  keys,
  RUN_PREFIX,
  reconciliationPartition,
  SHARD_PLAN,
  type ShardPlan,
  settlementDayPartitions,
} from './keys.ts';
import { mergedQuery } from './sharded-query.ts';

/** Reconciliation runs, plus the batched and per-day reads a reconcile run makes of payments and refunds. */
export class DynamoReconciliationRepository implements ReconciliationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly plan: ShardPlan = SHARD_PLAN,
  ) {}

  /**
   * Stores a run (its own item, replaced as the run progresses) and the channel-day's latest (`SUMMARY`), the latter
   * only if no later-started run is recorded there: overlapping runs leave the newest one as the latest.
   */
  async putRun(record: ReconciliationRecord): Promise<void> {
    const item = { entity: 'RECONCILIATION', ...record };
    const { date, channel, runId } = record;
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { ...keys.reconciliationRun(date, channel, runId), ...item } }),
    );
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.reconciliation(date, channel), ...item },
          ConditionExpression: 'attribute_not_exists(PK) OR runId <= :runId',
          ExpressionAttributeValues: { ':runId': runId },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** The latest run of a channel-day, or the run `runId`; `undefined` if there is none. */
  async getRun(date: string, channel: string, runId?: string): Promise<ReconciliationRecord | undefined> {
    const Key = runId ? keys.reconciliationRun(date, channel, runId) : keys.reconciliation(date, channel);
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }));
    return Item ? fromItem<ReconciliationRecord>(Item) : undefined;
  }

  /** The runs of a channel-day, newest first (one Query of its partition). */
  async listRuns(date: string, channel: string, limit: number): Promise<ReconciliationRecord[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :run)',
        ExpressionAttributeValues: { ':pk': reconciliationPartition(date, channel), ':run': RUN_PREFIX },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return Items.map((item) => fromItem<ReconciliationRecord>(item));
  }

  /**
   * Payments (`pay_…`) and refunds (`ref_…`) by id, 100 keys per BatchGetItem (unprocessed keys retried with
   * backoff). Other ids are not looked up. Returns the records found, by id.
   */
  async getMany(ids: readonly string[]): Promise<Map<string, Payment | Refund>> {
    const found = new Map<string, Payment | Refund>();
    const wanted = [...new Set(ids)].flatMap((id): Key[] =>
      id.startsWith('pay_') ? [keys.payment(id)] : id.startsWith('ref_') ? [keys.refund(id)] : [],
    );
    for (let start = 0; start < wanted.length; start += BATCH_GET_LIMIT) {
      const items = await consistentBatchGet(this.db, this.tableName, wanted.slice(start, start + BATCH_GET_LIMIT));
      for (const item of items.values()) {
        const record = fromItem<Payment | Refund>(item);
        found.set(record.id, record);
      }
    }
    return found;
  }

  /**
   * Settled payments and completed refunds of a channel on one business day (every GSI2 shard of
   * `CHANNEL#{channel}#{day}`), limited to the instants `[from, to)`, merged into one time order.
   */
  async *settledOn(channel: string, day: string, from: string, to: string): AsyncGenerator<Payment | Refund> {
    const items = mergedQuery(this.db, {
      input: {
        TableName: this.tableName,
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':from': from, ':to': to },
      },
      partitions: settlementDayPartitions(channel, day, this.plan),
      sortKey: 'GSI2SK',
    });
    for await (const item of items) yield fromItem<Payment | Refund>(item);
  }
}
