import { setTimeout as sleep } from 'node:timers/promises';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { StaleStateError } from '#app/ports.ts';

const KEY_ATTRIBUTES = new Set([
  'PK',
  'SK',
  'GSI1PK',
  'GSI1SK',
  'GSI2PK',
  'GSI2SK',
  'GSI3PK',
  'GSI3SK',
  'entity',
  'ttl',
]);

/** Strips the table's key and index attributes from an item, leaving the domain object. */
export function fromItem<T>(item: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) if (!KEY_ATTRIBUTES.has(name)) out[name] = value;
  return out as T;
}

/** Unix seconds for a DynamoDB TTL attribute. */
export function ttlSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}

/** The reason code of each item of a cancelled transaction, in item order (`None` where that item did not fail). */
export function cancellationReasons(error: TransactionCanceledException): string[] {
  return (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
}

/** How many times in all {@link retryOnConflict} sends a transaction that only met concurrent transactions. */
export const CONFLICT_ATTEMPTS = 8;

/**
 * Sends a transaction again while DynamoDB cancels it only because concurrent transactions held its items
 * (`TransactionConflict`: a hot counter), after a short random wait, `attempts` times in all; every other failure —
 * a failed condition included — is thrown at once, for the caller to read ({@link cancellationReasons}).
 */
export async function retryOnConflict<T>(
  send: () => Promise<T>,
  attempts: number,
  random: () => number = Math.random,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const conflictOnly = cancellationReasons(error).every(
        (code) => code === 'None' || code === 'TransactionConflict',
      );
      if (!conflictOnly || attempt >= attempts) throw error;
      await sleep(random() * Math.min(200, 5 * 2 ** attempt));
    }
  }
}

/**
 * Runs a transaction and turns a lost race (a failed condition or a conflicting transaction) into
 * {@link StaleStateError}; every other failure propagates unchanged.
 */
export async function asStaleOnConflict<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const reasons = cancellationReasons(error);
      if (reasons.some((code) => code === 'ConditionalCheckFailed' || code === 'TransactionConflict')) {
        throw new StaleStateError(`transaction cancelled: ${reasons.join(',')}`, { cause: error });
      }
    }
    throw error;
  }
}

/**
 * A transaction's `Put` of a versioned item: written only if it is new (`expected` undefined) or if its `attribute`
 * still holds `expected` — the optimistic check every audited configuration change makes.
 */
export function guardedPut(
  tableName: string,
  item: Record<string, unknown>,
  guard: { attribute: string; expected: string | number | undefined },
) {
  return {
    Put: {
      TableName: tableName,
      Item: item,
      ...(guard.expected === undefined
        ? { ConditionExpression: 'attribute_not_exists(PK)' }
        : {
            ConditionExpression: '#guard = :expected',
            ExpressionAttributeNames: { '#guard': guard.attribute },
            ExpressionAttributeValues: { ':expected': guard.expected },
          }),
    },
  };
}

/** Writes `items` in ONE transaction; a lost race becomes `StaleStateError` ({@link asStaleOnConflict}). */
export function transactOrStale(
  db: DynamoDBDocumentClient,
  items: NonNullable<TransactWriteCommandInput['TransactItems']>,
): Promise<unknown> {
  return asStaleOnConflict(() => db.send(new TransactWriteCommand({ TransactItems: items })));
}

/** The most keys one `BatchGetItem` takes. */
export const BATCH_GET_LIMIT = 100;
const MAX_UNPROCESSED_ROUNDS = 8;

/** An item's table key as a map key: `PK`, a newline, `SK`. */
export const itemKeyOf = (key: { PK?: unknown; SK?: unknown }): string => `${String(key.PK)}\n${String(key.SK)}`;

/**
 * Reads up to {@link BATCH_GET_LIMIT} items in ONE `BatchGetItem` (keys DynamoDB leaves unprocessed are asked for
 * again, with backoff): the items found, by {@link itemKeyOf}. `consistent` reads each item as a `GetItem` with
 * `ConsistentRead` would; either way the items are read like separate reads, not as one snapshot.
 */
export async function batchGetItems(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly { PK: string; SK: string }[],
  options: { consistent: boolean },
): Promise<Map<string, Record<string, unknown>>> {
  if (keys.length > BATCH_GET_LIMIT) throw new RangeError(`one BatchGetItem reads at most ${BATCH_GET_LIMIT} keys`);
  const found = new Map<string, Record<string, unknown>>();
  let pending: Record<string, unknown>[] = keys.map((key) => ({ ...key }));
  for (let round = 0; pending.length > 0; round += 1) {
    if (round > MAX_UNPROCESSED_ROUNDS) throw new Error('BatchGetItem kept leaving keys unprocessed');
    if (round > 0) await new Promise((done) => setTimeout(done, 50 * 2 ** round));
    const response = await db.send(
      new BatchGetCommand({
        RequestItems: { [tableName]: { Keys: pending, ...(options.consistent ? { ConsistentRead: true } : {}) } },
      }),
    );
    for (const item of response.Responses?.[tableName] ?? []) found.set(itemKeyOf(item), item);
    pending = response.UnprocessedKeys?.[tableName]?.Keys ?? [];
  }
  return found;
}

/** {@link batchGetItems} with strongly consistent reads. */
export function consistentBatchGet(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly { PK: string; SK: string }[],
): Promise<Map<string, Record<string, unknown>>> {
  return batchGetItems(db, tableName, keys, { consistent: true });
}

/**
 * The number attribute `attribute` of each item at `keys` (0 where there is none), in key order: strongly
 * consistent reads, {@link BATCH_GET_LIMIT} keys per `BatchGetItem` (sharded counters are read this way).
 */
export async function consistentTotals(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly { PK: string; SK: string }[],
  attribute: string,
): Promise<number[]> {
  const found = new Map<string, Record<string, unknown>>();
  for (let from = 0; from < keys.length; from += BATCH_GET_LIMIT) {
    const chunk = keys.slice(from, from + BATCH_GET_LIMIT);
    for (const [at, item] of await consistentBatchGet(db, tableName, chunk)) found.set(at, item);
  }
  return keys.map((key) => Number(found.get(itemKeyOf(key))?.[attribute] ?? 0));
}
