import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ChannelJournal } from '#app/ports.ts';
import type { JournalEntry } from '#domain/channel-journal.ts';
import { logger } from '#shared/observability.ts';
import { fromItem, ttlSeconds } from './items.ts';
import { keys } from './keys.ts';

/** Writes still running beyond this are dropped (and logged), so a slow table cannot pile them up in memory. */
const MAX_PENDING = 64;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The journal in the table (`JOURNAL#{payment}` / `{at}#{id}`), each entry expiring after `retentionDays` (TTL).
 * Writes are fire-and-forget: `record` starts a PutItem and returns; an error is logged, never thrown.
 */
export class DynamoChannelJournal implements ChannelJournal {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  record(entry: JournalEntry): void {
    if (this.pending.size >= MAX_PENDING) {
      logger.warn('channel journal backlog full; entry dropped', { payment_id: entry.paymentId, op: entry.operation });
      return;
    }
    const write = this.db
      .send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.journalEntry(entry.paymentId, entry.at, entry.id),
            entity: 'JOURNAL',
            ...entry,
            ttl: ttlSeconds(new Date(Date.parse(entry.at) + this.retentionDays * DAY_MS)),
          },
        }),
      )
      .then(
        () => undefined,
        (error: unknown) => {
          logger.warn('channel journal write failed', { payment_id: entry.paymentId, error: String(error) });
        },
      )
      .finally(() => this.pending.delete(write));
    this.pending.add(write);
  }

  async flush(timeoutMs = 1_000): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(this.pending), bound]);
    clearTimeout(timer);
  }

  async listByPayment(paymentId: string, limit = 100): Promise<JournalEntry[]> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.journalEntry(paymentId, '', '').PK },
        Limit: limit,
      }),
    );
    return (Items ?? []).map((item) => fromItem<JournalEntry>(item));
  }
}
