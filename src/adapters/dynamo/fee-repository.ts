import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { FeeRecord, FeeRecords, FeeSchedules } from '#app/ports.ts';
import { StaleStateError } from '#app/ports.ts';
import type { AuditRecord } from '#domain/audit.ts';
import type { FeeSchedule } from '#domain/fees.ts';
import { auditPut } from './audit-log.ts';
import { fromItem, guardedPut, transactOrStale } from './items.ts';
import { keys } from './keys.ts';

/**
 * Fee schedules: one item per scope (`FEESCHEDULE#{scope}` / `SCHEDULE`) holding every version, oldest first, and
 * `latestVersion`; a new version is written conditional on the latest one read, with its audit entry.
 */
export class DynamoFeeScheduleRepository implements FeeSchedules {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(scope: string): Promise<FeeSchedule | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.feeSchedule(scope), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { latestVersion: _latest, ...schedule } = fromItem<FeeSchedule & { latestVersion: number }>(Item);
    return schedule;
  }

  async put(schedule: FeeSchedule, expectedVersion: number, audit: AuditRecord): Promise<void> {
    const latestVersion = schedule.versions.at(-1)?.version ?? 0;
    try {
      await transactOrStale(this.db, [
        guardedPut(
          this.tableName,
          { ...keys.feeSchedule(schedule.scope), entity: 'FEE_SCHEDULE', ...schedule, latestVersion },
          { attribute: 'latestVersion', expected: expectedVersion === 0 ? undefined : expectedVersion },
        ),
        auditPut(this.tableName, audit),
      ]);
    } catch (error) {
      if (error instanceof StaleStateError) {
        throw new StaleStateError(`the ${schedule.scope} fee schedule changed concurrently`, { cause: error });
      }
      throw error;
    }
  }
}

/** Items per TransactWriteItems (DynamoDB's limit). */
const TRANSACTION_SIZE = 100;

/**
 * Fee records (`FEE#{gatewayId}` / `FEE`). Each write is conditional: no record yet, or one an earlier-or-same
 * started run wrote (run ids start with their start time), so overlapping runs leave the newest run's figures. Written
 * 100 per transaction; a transaction cancelled by a newer record or a conflicting write falls back to one conditional
 * write per record (the newer records are kept).
 */
export class DynamoFeeRecordRepository implements FeeRecords {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(records: readonly FeeRecord[]): Promise<void> {
    const unique = [...new Map(records.map((record) => [record.gatewayId, record])).values()];
    for (let start = 0; start < unique.length; start += TRANSACTION_SIZE) {
      const chunk = unique.slice(start, start + TRANSACTION_SIZE);
      try {
        await this.db.send(
          new TransactWriteCommand({ TransactItems: chunk.map((record) => ({ Put: this.put1(record) })) }),
        );
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        for (const record of chunk) {
          try {
            await this.db.send(new PutCommand(this.put1(record)));
          } catch (single) {
            if (!(single instanceof ConditionalCheckFailedException)) throw single;
          }
        }
      }
    }
  }

  async get(gatewayId: string): Promise<FeeRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.feeRecord(gatewayId), ConsistentRead: true }),
    );
    return Item ? fromItem<FeeRecord>(Item) : undefined;
  }

  private put1(record: FeeRecord) {
    return {
      TableName: this.tableName,
      Item: { ...keys.feeRecord(record.gatewayId), entity: 'FEE', ...record },
      ConditionExpression: 'attribute_not_exists(PK) OR runId <= :runId',
      ExpressionAttributeValues: { ':runId': record.runId },
    };
  }
}
