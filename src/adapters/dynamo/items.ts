import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
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

/**
 * Runs a transaction and turns a lost race (a failed condition or a conflicting transaction) into
 * {@link StaleStateError}; every other failure propagates unchanged.
 */
export async function asStaleOnConflict<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const reasons = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
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
