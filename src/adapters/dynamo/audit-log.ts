import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord } from '#domain/audit.ts';
import { fromItem } from './items.ts';
import { AUDIT_SHARDS, auditKey, auditPartition } from './keys.ts';
import { inParallel } from './sharded-query.ts';

/**
 * The audit entry as one item of a `TransactWriteItems`: a Put that never overwrites (append-only), written in the
 * same transaction as the change it records.
 */
export function auditPut(tableName: string, record: AuditRecord) {
  return {
    Put: {
      TableName: tableName,
      Item: { ...auditKey(record), entity: 'AUDIT', ...record },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

/** Reads the audit trail for operators: every shard of every day in `[since, until)` (32 at a time), oldest first. */
export class DynamoAuditLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async list(query: { since: Date; until: Date; merchantId?: string }): Promise<AuditRecord[]> {
    const from = query.since.toISOString();
    const to = query.until.toISOString();
    const records: AuditRecord[] = [];
    for (const day of daysBetween(query.since, query.until)) {
      const partitions = Array.from({ length: AUDIT_SHARDS }, (_, shard) => auditPartition(day, shard));
      const shards = await inParallel(partitions, (partition) => this.shard(partition, from, to));
      records.push(...shards.flat());
    }
    return records
      .filter((record) => !query.merchantId || record.merchantId === query.merchantId)
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  private async shard(partition: string, from: string, to: string): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': partition, ':from': from, ':to': to },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const record = fromItem<AuditRecord>(item);
        if (record.at < to) records.push(record);
      }
    }
    return records;
  }
}

/** The UTC days (`yyyy-mm-dd`) that `[since, until)` touches. */
function daysBetween(since: Date, until: Date): string[] {
  const days: string[] = [];
  const day = new Date(Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate()));
  while (day < until) {
    days.push(day.toISOString().slice(0, 10));
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return days;
}
