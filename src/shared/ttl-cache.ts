/**
 * A container's in-memory cache of values read from the table, each kept for `ttlMs` (the one way this gateway caches:
 * merchant profiles, risk configuration and blacklist). `get` answers a fresh copy or loads it — the loader sees the
 * expired copy, so it can keep it when a cheap version check says nothing changed. `ttlMs` 0 turns caching off (every
 * `get` loads). Bounded to `maxEntries` keys, the oldest dropped first. The clock is injectable for tests.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
    private readonly maxEntries = 1000,
  ) {}

  /** The value of `key`: this container's copy while it is fresh, else what `load` answers (then kept `ttlMs`). */
  async get(key: string, load: (expired: V | undefined) => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const value = await load(hit?.value);
    if (this.ttlMs <= 0) return value;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value ?? '');
    this.entries.set(key, { value, until: this.now() + this.ttlMs });
    return value;
  }

  /** Drops `key`'s copy (this container changed it), or every copy. */
  drop(key?: string): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }
}
