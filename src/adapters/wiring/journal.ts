import { atInvocationEnd } from '#shared/invocation-end.ts';
import { DynamoChannelJournal } from '../dynamo/channel-journal.ts';
import type { TableParts } from './dynamo.ts';

/**
 * The channel message journal (table only): written by the channel adapters and callbacks in the background, read by
 * `GET /v1/payments/{id}`. Its writes still running are awaited (bounded) at the end of each invocation.
 */
export function journalParts(base: Pick<TableParts, 'db' | 'config'>) {
  const journal = new DynamoChannelJournal(base.db, base.config.tableName, base.config.journalRetentionDays);
  atInvocationEnd(() => journal.flush());
  return { journal };
}
