import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ListPage, ListQuery } from '#app/ports.ts';
import { ValidationError } from '#shared/errors.ts';
import { fromItem } from './items.ts';
import { type MerchantListing, merchantListingPartitions, SHARD_PLAN, type ShardPlan } from './keys.ts';
import { inParallel } from './sharded-query.ts';

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
 * One page of a merchant's payments, refunds or events from GSI1, newest first: the same query of every shard of the
 * caller's own listing (never a scan), in parallel, the filter applied by DynamoDB, merged by sort key. Each shard
 * reads at most its share of {@link MAX_EVALUATED_PER_REQUEST}. A shard that stopped early may hold unread items below
 * its last read one, so only items at or above the highest such stop (the frontier) are certain to be in order: the
 * page holds those, and its cursor is the last item shown or else the frontier.
 */
export async function listMerchantItems<T>(
  db: DynamoDBDocumentClient,
  tableName: string,
  listing: { merchantId: string; kind: MerchantListing },
  query: ListQuery,
  filter?: ListingFilter,
  plan: ShardPlan = SHARD_PLAN,
): Promise<ListPage<T>> {
  const range = sortKeyRange(query);
  if (!range) return { items: [] };
  const want = query.limit + 1;
  const partitions = merchantListingPartitions(listing.merchantId, listing.kind, plan);
  const perShard = Math.max(1, Math.min(want, Math.floor(MAX_EVALUATED_PER_REQUEST / partitions.length)));
  const pages = await inParallel(partitions, (partition) =>
    db.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: 'GSI1',
        KeyConditionExpression: `GSI1PK = :partition${range.condition}`,
        ExpressionAttributeValues: { ':partition': partition, ...range.values, ...filter?.values },
        ...(filter ? { FilterExpression: filter.expression, ExpressionAttributeNames: filter.names } : {}),
        ScanIndexForward: false,
        Limit: perShard,
      }),
    ),
  );
  let frontier: string | undefined;
  const matches: Record<string, unknown>[] = [];
  for (const page of pages) {
    // BETWEEN includes its upper bound: with a cursor that is the previous page's last item, never shown twice.
    matches.push(...(page.Items ?? []).filter((item) => item.GSI1SK !== range.upper));
    const stop = page.LastEvaluatedKey?.GSI1SK;
    if (stop !== undefined && (frontier === undefined || String(stop) > frontier)) frontier = String(stop);
  }
  const ordered = matches
    .map((item) => ({ item, position: String(item.GSI1SK) }))
    .filter(({ position }) => frontier === undefined || position >= frontier)
    .sort((a, b) => (a.position < b.position ? 1 : a.position > b.position ? -1 : 0));
  if (ordered.length >= want) {
    const shown = ordered.slice(0, query.limit);
    return {
      items: shown.map(({ item }) => fromItem<T>(item)),
      nextCursor: encodeCursor(String(shown.at(-1)?.position)),
    };
  }
  const items = ordered.map(({ item }) => fromItem<T>(item));
  return frontier === undefined ? { items } : { items, nextCursor: encodeCursor(frontier) };
}
