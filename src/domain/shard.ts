/**
 * A stable shard of an id among `count`: a hash of the id, so every write of one item (or every retry of one wallet
 * movement) lands on the same shard.
 */
export function shardOf(id: string, count: number): number {
  let hash = 0;
  for (const char of id) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % count;
}
