import { type DynamoDBDocumentClient, paginateQuery, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/** Shard queries in flight at once from one reader. */
export const PARALLEL_SHARD_QUERIES = 32;

type Item = Record<string, unknown>;

/** `fn` over every value, {@link PARALLEL_SHARD_QUERIES} at a time; results in the values' order. */
export async function inParallel<V, R>(values: readonly V[], fn: (value: V) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < values.length; start += PARALLEL_SHARD_QUERIES) {
    results.push(...(await Promise.all(values.slice(start, start + PARALLEL_SHARD_QUERIES).map(fn))));
  }
  return results;
}

/** One query over every shard of an index key: `:pk` is bound to each partition in turn. */
export interface ShardedQuery {
  input: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'ScanIndexForward'> & {
    ExpressionAttributeValues: Record<string, unknown>;
  };
  partitions: readonly string[];
  /** The index's sort key attribute: the shards' items are merged by it. */
  sortKey: string;
}

/**
 * Every item of every shard in one ascending sort-key order, as if the index key had one partition: each shard is
 * read page by page in its own order (the first pages in parallel), and the smallest head is yielded next.
 */
export async function* mergedQuery(db: DynamoDBDocumentClient, query: ShardedQuery): AsyncGenerator<Item> {
  const { input, partitions, sortKey } = query;
  const shards = partitions.map((partition) =>
    shardItems(db, {
      ...input,
      ScanIndexForward: true,
      ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ':pk': partition },
    }),
  );
  const firsts = await inParallel(shards, async (shard) => ({ shard, next: await shard.next() }));
  const heads = firsts.flatMap(({ shard, next }) => (next.done ? [] : [{ shard, item: next.value }]));
  const key = (item: Item) => String(item[sortKey]);
  while (heads.length > 0) {
    let best = 0;
    for (let i = 1; i < heads.length; i++) {
      if (key((heads[i] as (typeof heads)[number]).item) < key((heads[best] as (typeof heads)[number]).item)) best = i;
    }
    const head = heads[best] as (typeof heads)[number];
    yield head.item;
    const next = await head.shard.next();
    if (next.done) heads.splice(best, 1);
    else head.item = next.value;
  }
}

async function* shardItems(db: DynamoDBDocumentClient, input: QueryCommandInput): AsyncGenerator<Item> {
  for await (const page of paginateQuery({ client: db }, input)) yield* page.Items ?? [];
}
