import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ListPage, ListQuery } from '#app/ports.ts';
import { ValidationError } from '#shared/errors.ts';
import { fromItem } from './items.ts';
import { type MerchantListing, merchantListingPartition } from './keys.ts';

/**
 * Index items a listing request may read at most. A selective filter over a long history then answers a short (even
 * empty) page with a cursor instead of reading the merchant's whole partition in one request.
 */
export const MAX_EVALUATED_PER_REQUEST = 1000;

/** A DynamoDB filter on non-key attributes (every name and value placeholder is the caller's). */
export interface ListingFilter {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/** An equality filter on stored attributes; an `undefined` value filters nothing, no values at all is no filter. */
export function equalityFilter(attributes: Record<string, string | undefined>): ListingFilter | undefined {
  const set = Object.entries(attributes).filter((entry): entry is [string, string] => entry[1] !== undefined);
  if (set.length === 0) return undefined;
  return {
    expression: set.map(([name]) => `#${name} = :${name}`).join(' AND '),
    names: Object.fromEntries(set.map(([name]) => [`#${name}`, name])),
    values: Object.fromEntries(set.map(([name, value]) => [`:${name}`, value])),
  };
}

const CURSOR_VERSION = 'v1';
/** A GSI1 sort key: `{created_at}#{escaped id}` (see `listingSort` in keys.ts). */
const POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[A-Za-z0-9_.%-]{1,255}$/;

/**
 * A cursor is the GSI1 sort key of the last item a page covered, and nothing else: the partition is always the
 * authenticated merchant's own, so a forged cursor can only move the start inside the caller's listing.
 */
function encodeCursor(position: string): string {
  return Buffer.from(`${CURSOR_VERSION}:${position}`, 'utf8').toString('base64url');
}

/** A cursor is client input: anything but one this API returned is `400 VALIDATION_FAILED`, never a 500. */
function decodeCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]{1,512}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const position = text.startsWith(`${CURSOR_VERSION}:`) ? text.slice(CURSOR_VERSION.length + 1) : '';
  if (!POSITION.test(position))
    throw new ValidationError('VALIDATION_FAILED', 'cursor: not a cursor this API returned');
  return position;
}

/**
 * The key condition on GSI1's sort key: `created_gte` inclusive, `created_lt` and the cursor exclusive. A bare
 * timestamp `T` sorts before every `T#id`, so `<= T` admits only items created before `T`; the cursor's own item is
 * dropped by the caller. `null`: the range is empty.
 */
function sortKeyRange(query: ListQuery): { condition: string; values: Record<string, string>; upper?: string } | null {
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  // The tighter of the two exclusive upper bounds (both sort as GSI1 sort keys).
  const upper = [cursor, query.createdLt].filter((value): value is string => value !== undefined).sort()[0];
  const lower = query.createdGte;
  if (lower !== undefined && upper !== undefined) {
    if (upper <= lower) return null;
    return { condition: ' AND GSI1SK BETWEEN :lower AND :upper', values: { ':lower': lower, ':upper': upper }, upper };
  }
  if (upper !== undefined) return { condition: ' AND GSI1SK < :upper', values: { ':upper': upper } };
  if (lower !== undefined) return { condition: ' AND GSI1SK >= :lower', values: { ':lower': lower } };
  return { condition: '', values: {} };
}

/**
 * One page of a merchant's payments, refunds or events from GSI1, newest first: an index query of the caller's own
 * partition (never a scan), the filter applied by DynamoDB. Reads `limit + 1` matches to know whether more exist,
 * doubling each round's read while a filter discards items, up to {@link MAX_EVALUATED_PER_REQUEST}.
 */
export async function listMerchantItems<T>(
  db: DynamoDBDocumentClient,
  tableName: string,
  listing: { merchantId: string; kind: MerchantListing },
  query: ListQuery,
  filter?: ListingFilter,
): Promise<ListPage<T>> {
  const range = sortKeyRange(query);
  if (!range) return { items: [] };
  const want = query.limit + 1;
  const matches: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  let evaluated = 0;
  for (let round = 0; ; round++) {
    const page = await db.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: 'GSI1',
        KeyConditionExpression: `GSI1PK = :partition${range.condition}`,
        ExpressionAttributeValues: {
          ':partition': merchantListingPartition(listing.merchantId, listing.kind),
          ...range.values,
          ...filter?.values,
        },
        ...(filter ? { FilterExpression: filter.expression, ExpressionAttributeNames: filter.names } : {}),
        ScanIndexForward: false,
        Limit: Math.min(MAX_EVALUATED_PER_REQUEST - evaluated, (want - matches.length) * 2 ** round),
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    evaluated += page.ScannedCount ?? 0;
    // BETWEEN includes its upper bound: with a cursor that is the previous page's last item, never shown twice.
    matches.push(...(page.Items ?? []).filter((item) => item.GSI1SK !== range.upper));
    startKey = page.LastEvaluatedKey;
    if (matches.length >= want) {
      const items = matches.slice(0, query.limit);
      return { items: items.map((item) => fromItem<T>(item)), nextCursor: encodeCursor(String(items.at(-1)?.GSI1SK)) };
    }
    if (!startKey) return { items: matches.map((item) => fromItem<T>(item)) };
    if (evaluated >= MAX_EVALUATED_PER_REQUEST) {
      return { items: matches.map((item) => fromItem<T>(item)), nextCursor: encodeCursor(String(startKey.GSI1SK)) };
    }
  }
}
