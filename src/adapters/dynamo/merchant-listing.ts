import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ListingMerchant, ListPage, ListQuery } from '#app/ports.ts';
import type { ListingShardStep } from '#domain/listing-shards.ts';
import { ValidationError } from '#shared/errors.ts';
import { fromItem } from './items.ts';
import {
  type ListingRegime,
  type MerchantListing,
  merchantListingRegimes,
  SHARD_PLAN,
  type ShardPlan,
} from './keys.ts';
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

/** The page's bounds on GSI1's sort key: `lower` inclusive, `upper` exclusive (the tighter of cursor and `createdLt`). */
export interface SortKeyBounds {
  lower?: string;
  upper?: string;
}

/** The query's bounds, or `null` when its range is empty. */
function queryBounds(query: ListQuery): SortKeyBounds | null {
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  // The tighter of the two exclusive upper bounds (both sort as GSI1 sort keys).
  const upper = [cursor, query.createdLt].filter((value): value is string => value !== undefined).sort()[0];
  const lower = query.createdGte;
  if (lower !== undefined && upper !== undefined && upper <= lower) return null;
  return { lower, upper };
}

/**
 * The query's bounds clipped to a regime's `[from, to)`, or `null` when no item can be within them: no sort key lies
 * in `[lower, {lower as instant}#%)` (see {@link boundaryPosition}), so a page that ended at a regime boundary does
 * not query the regime above it again.
 */
export function clip(bounds: SortKeyBounds, regime: ListingRegime): SortKeyBounds | null {
  const lower = [bounds.lower, regime.from]
    .filter((value): value is string => value !== undefined)
    .sort()
    .at(-1);
  const upper = [bounds.upper, regime.to].filter((value): value is string => value !== undefined).sort()[0];
  if (lower !== undefined && upper !== undefined && upper <= boundaryPosition(lower)) return null;
  return { lower, upper };
}

/**
 * The key condition on GSI1's sort key. A bare timestamp `T` (or day) sorts before every `T#id`, so `< T` admits only
 * items created before `T`. `BETWEEN` includes its upper bound: the caller drops the item AT it (a cursor's own item).
 */
function sortKeyCondition({ lower, upper }: SortKeyBounds): { condition: string; values: Record<string, string> } {
  if (lower !== undefined && upper !== undefined) {
    return { condition: ' AND GSI1SK BETWEEN :lower AND :upper', values: { ':lower': lower, ':upper': upper } };
  }
  if (upper !== undefined) return { condition: ' AND GSI1SK < :upper', values: { ':upper': upper } };
  if (lower !== undefined) return { condition: ' AND GSI1SK >= :lower', values: { ':lower': lower } };
  return { condition: '', values: {} };
}

/**
 * A cursor position that, as the next page's exclusive upper bound, admits exactly the items created before `bound`
 * (a day or an instant): `{instant}#%` sorts before every `{instant}#{escaped id}` (`%` is the lowest character an
 * escaped id can hold) and after every item of an earlier instant.
 */
function boundaryPosition(bound: string): string {
  return `${bound.length === 10 ? `${bound}T00:00:00.000Z` : bound}#%`;
}

/**
 * Whose listing a page reads: the merchant, its own listing shard steps (on its profile) and, when known, when it was
 * created — none of its items is older, so the regimes that ended before it are not read.
 */
export interface ListingOwner {
  merchantId: string;
  kind: MerchantListing;
  shardSteps?: readonly ListingShardStep[];
  since?: string;
}

/** The `kind` listing of `merchant`: its own shard steps, and its creation time when known. */
export function listingOf(merchant: ListingMerchant, kind: MerchantListing): ListingOwner {
  return { merchantId: merchant.id, kind, shardSteps: merchant.listingShardSteps, since: merchant.createdAt };
}

/**
 * One page of a merchant's payments, refunds or events from GSI1, newest first. The listing's history is a series of
 * regimes (`merchantListingRegimes`: each a span of creation times and the shards its items are in); the page reads
 * them newest first, each with the sort key clipped to its span, and reads an older one only while the page is not
 * full — so a merchant with one shard pays one Query for a page of recent items. Within a regime: the same query of
 * every shard (never a scan), in parallel, the filter applied by DynamoDB, merged by sort key; each shard reads at most
 * its share of what is left of {@link MAX_EVALUATED_PER_REQUEST}. A shard that stopped early may hold unread items
 * below its last read one, so only items at or above the highest such stop (the frontier) are certain to be in order:
 * the page ends there, and its cursor is the last item shown or else the frontier. A page that runs out of budget at
 * a regime boundary ends there too (its cursor: the last item shown, or the boundary).
 */
export async function listMerchantItems<T>(
  db: DynamoDBDocumentClient,
  tableName: string,
  owner: ListingOwner,
  query: ListQuery,
  filter?: ListingFilter,
  plan: ShardPlan = SHARD_PLAN,
): Promise<ListPage<T>> {
  const bounds = queryBounds(query);
  if (!bounds) return { items: [] };
  const want = query.limit + 1;
  const found: { item: Record<string, unknown>; position: string }[] = [];
  let budget = MAX_EVALUATED_PER_REQUEST;
  let frontier: string | undefined;
  for (const regime of merchantListingRegimes(owner.merchantId, owner.kind, owner.shardSteps, plan)) {
    const range = clip(bounds, regime);
    if (!range || (owner.since !== undefined && regime.to !== undefined && regime.to <= owner.since)) continue;
    if (budget < regime.partitions.length) {
      // Not enough left to read every shard of this regime once: the next page starts at its top.
      frontier = found.at(-1)?.position ?? boundaryPosition(String(regime.to));
      break;
    }
    const read = await readRegime(db, tableName, regime, range, want - found.length, budget, filter);
    budget -= read.evaluated;
    found.push(...read.items);
    frontier = read.frontier;
    if (frontier !== undefined || found.length >= want) break;
  }
  if (found.length >= want) {
    const shown = found.slice(0, query.limit);
    return {
      items: shown.map(({ item }) => fromItem<T>(item)),
      nextCursor: encodeCursor(String(shown.at(-1)?.position)),
    };
  }
  const items = found.map(({ item }) => fromItem<T>(item));
  return frontier === undefined ? { items } : { items, nextCursor: encodeCursor(frontier) };
}

/**
 * One regime's part of a page: every shard queried in parallel within `range`, merged newest first, cut at the
 * frontier (the highest position a shard stopped at, when one did).
 */
async function readRegime(
  db: DynamoDBDocumentClient,
  tableName: string,
  regime: ListingRegime,
  range: SortKeyBounds,
  wanted: number,
  budget: number,
  filter: ListingFilter | undefined,
) {
  const { condition, values } = sortKeyCondition(range);
  const perShard = Math.max(1, Math.min(wanted, Math.floor(budget / regime.partitions.length)));
  const pages = await inParallel(regime.partitions, (partition) =>
    db.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: 'GSI1',
        KeyConditionExpression: `GSI1PK = :partition${condition}`,
        ExpressionAttributeValues: { ':partition': partition, ...values, ...filter?.values },
        ...(filter ? { FilterExpression: filter.expression, ExpressionAttributeNames: filter.names } : {}),
        ScanIndexForward: false,
        Limit: perShard,
      }),
    ),
  );
  let frontier: string | undefined;
  let evaluated = 0;
  const matches: { item: Record<string, unknown>; position: string }[] = [];
  for (const page of pages) {
    evaluated += page.ScannedCount ?? perShard;
    for (const item of page.Items ?? []) {
      // BETWEEN includes its upper bound: with a cursor that is the previous page's last item, never shown twice.
      if (item.GSI1SK !== range.upper) matches.push({ item, position: String(item.GSI1SK) });
    }
    const stop = page.LastEvaluatedKey?.GSI1SK;
    if (stop !== undefined && (frontier === undefined || String(stop) > frontier)) frontier = String(stop);
  }
  const items = matches
    .filter(({ position }) => frontier === undefined || position >= frontier)
    .sort((a, b) => (a.position < b.position ? 1 : a.position > b.position ? -1 : 0));
  return { items, frontier, evaluated };
}
