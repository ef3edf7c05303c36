import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { eventIndexes, refundIndexes } from './keys.ts';

/** What one page of the backfill did. */
export interface BackfillPage {
  /** Table items the page's Scan read. */
  scanned: number;
  /** Refunds and events it gave their GSI1 attributes. */
  indexed: number;
  /** Where the next page starts; absent when the table has been read to its end. */
  nextCursor?: string;
}

const INDEXERS = { REFUND: refundIndexes.byMerchant, EVENT: eventIndexes.byMerchant } as const;

/** A cursor is the Scan's `LastEvaluatedKey` (the table's own key), base64url JSON. */
export function encodeBackfillCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The Scan position a cursor names, or `undefined` when it is not one this backfill printed. */
export function decodeBackfillCursor(cursor: string): { PK: string; SK: string } | undefined {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof key !== 'object' || key === null) return undefined;
    const { PK, SK, ...rest } = key as Record<string, unknown>;
    return typeof PK === 'string' && typeof SK === 'string' && Object.keys(rest).length === 0 ? { PK, SK } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One page of the listings backfill: refunds and events written before they carried GSI1 attributes are not listed
 * (`GET /v1/refunds`, `GET /v1/events`); this gives them the attributes a write of today would (by their merchant,
 * creation time and id: `refundIndexes` / `eventIndexes`). A one-off operator command, so it scans — there is no index
 * of what is missing from an index — `pageSize` items a page, resumable from the cursor it returns. Idempotent: each
 * update is conditional on the item still lacking `GSI1PK`, so a rerun, a concurrent run or a concurrent write of the
 * item changes nothing twice (and never overwrites what a newer write set).
 */
export async function backfillListingKeys(
  db: DynamoDBDocumentClient,
  tableName: string,
  options: { pageSize: number; cursor?: { PK: string; SK: string } },
): Promise<BackfillPage> {
  const page = await db.send(
    new ScanCommand({
      TableName: tableName,
      Limit: options.pageSize,
      ...(options.cursor ? { ExclusiveStartKey: options.cursor } : {}),
      FilterExpression: 'SK IN (:refund, :event) AND attribute_not_exists(GSI1PK)',
      ProjectionExpression: 'PK, SK, id, merchantId, createdAt, listingShards',
      ExpressionAttributeValues: { ':refund': 'REFUND', ':event': 'EVENT' },
    }),
  );
  let indexed = 0;
  for (const item of page.Items ?? []) {
    const indexer = INDEXERS[item.SK as keyof typeof INDEXERS];
    const shards = typeof item.listingShards === 'number' ? item.listingShards : undefined;
    const { GSI1PK, GSI1SK } = indexer(String(item.merchantId), String(item.createdAt), String(item.id), shards);
    try {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { PK: item.PK, SK: item.SK },
          UpdateExpression: 'SET GSI1PK = :pk, GSI1SK = :sk',
          ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(GSI1PK)',
          ExpressionAttributeValues: { ':pk': GSI1PK, ':sk': GSI1SK },
        }),
      );
      indexed++;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  return {
    scanned: page.ScannedCount ?? 0,
    indexed,
    ...(page.LastEvaluatedKey ? { nextCursor: encodeBackfillCursor(page.LastEvaluatedKey) } : {}),
  };
}
