import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ExpiryIndex } from '#app/ports.ts';
import { expiryPartitions, SHARD_PLAN, type ShardPlan } from './keys.ts';

/** Shards of a bucket queried at once. */
const PARALLEL_SHARDS = 16;

/** Where a page stopped: shard `s` of the bucket, after key `k` in it (absent: from its start). */
interface Position {
  s: number;
  k?: Record<string, unknown>;
}

/**
 * GSI3, the sparse expiry index: a payment carries `GSI3PK = EXPIRY#{minute}#{shard}` only while it is `PENDING`, so
 * a bucket's shards hold exactly the orders a timer may have to close. A page reads the shards in order, 16 at a
 * time in parallel, and its cursor names the shard and key it stopped at. (GSIs are eventually consistent: callers
 * re-read each payment before acting.)
 */
export class DynamoExpiryIndex implements ExpiryIndex {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly plan: ShardPlan = SHARD_PLAN,
  ) {}

  async listPending(bucket: string, limit: number, cursor?: string) {
    const partitions = expiryPartitions(bucket, this.plan);
    const paymentIds: string[] = [];
    let { s: first, k: startKey } = decodePosition(cursor);
    for (; first < partitions.length; first += PARALLEL_SHARDS, startKey = undefined) {
      const group = partitions.slice(first, first + PARALLEL_SHARDS);
      const pages = await Promise.all(
        group.map((partition, i) => this.query(partition, limit, i === 0 ? startKey : undefined)),
      );
      for (const [i, page] of pages.entries()) {
        const shard = first + i;
        const items = page.Items ?? [];
        const room = limit - paymentIds.length;
        if (items.length > room) {
          const taken = items.slice(0, room);
          paymentIds.push(...taken.map((item) => String(item.GSI3SK)));
          const last = taken.at(-1);
          const k = last ? keyOf(last) : i === 0 ? startKey : undefined;
          return { paymentIds, cursor: encodePosition({ s: shard, ...(k ? { k } : {}) }) };
        }
        paymentIds.push(...items.map((item) => String(item.GSI3SK)));
        if (page.LastEvaluatedKey)
          return { paymentIds, cursor: encodePosition({ s: shard, k: page.LastEvaluatedKey }) };
        if (paymentIds.length === limit && shard + 1 < partitions.length) {
          return { paymentIds, cursor: encodePosition({ s: shard + 1 }) };
        }
      }
    }
    return { paymentIds };
  }

  private query(partition: string, limit: number, startKey?: Record<string, unknown>) {
    return this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'GSI3',
        KeyConditionExpression: 'GSI3PK = :bucket',
        ExpressionAttributeValues: { ':bucket': partition },
        Limit: limit,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
  }
}

/** A KEYS_ONLY GSI3 item's key, as `ExclusiveStartKey`. */
function keyOf(item: Record<string, unknown>): Record<string, unknown> {
  return { PK: item.PK, SK: item.SK, GSI3PK: item.GSI3PK, GSI3SK: item.GSI3SK };
}

function encodePosition(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** A cursor this index returned (the state machine hands it back); none is the bucket's start. */
function decodePosition(cursor: string | undefined): Position {
  if (!cursor) return { s: 0 };
  const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
  if (!Number.isSafeInteger(position.s) || position.s < 0) throw new Error('not an expiry cursor');
  return position;
}
