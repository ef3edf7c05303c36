/**
 * Section 11's arithmetic, pure (no I/O; `test/unit/bench-heat-model.test.ts` covers it): DynamoDB's unit rules for
 * one recorded access, the normalisation of a concrete partition key to its shape and fan-out, and the projection of
 * sampled flows to a target load with a seeded Zipf-skewed merchant mix.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { subBucketCount } from '#domain/rate-limit.ts';

type Item = Record<string, AttributeValue>;

/** DynamoDB's partition ceilings (per partition key, per second). */
export const PARTITION_LIMITS = { write: 1000, read: 3000 } as const;

/** A value's size by DynamoDB's item-size rules (strings and binaries by bytes, numbers by digits, nesting +1/+3). */
export function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (value.NS) return value.NS.reduce((n, s) => n + numberBytes(s), 0);
  if (value.BS) return value.BS.reduce((n, b) => n + b.byteLength, 0);
  if (value.L) return 3 + value.L.reduce((n, v) => n + 1 + valueBytes(v), 0);
  if (value.M)
    return 3 + Object.entries(value.M).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + valueBytes(v), 0);
  return 0;
}

/** A number takes about one byte per two significant digits, plus one. */
function numberBytes(n: string): number {
  const digits = n
    .replace(/^[-+]?/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

/** An item's size: every attribute name's bytes plus its value's. */
export function itemBytes(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((n, [name, value]) => n + Buffer.byteLength(name) + valueBytes(value), 0);
}

/** A global secondary index as `TABLE_DEFINITION` declares it. */
export type IndexDefinition = {
  indexName: string;
  partitionKey: string;
  sortKey: string;
  projection: 'ALL' | 'KEYS_ONLY';
};
type TableKeys = { partitionKey: string; sortKey: string };

/** One partition key touched by one call, with the units DynamoDB charges it. */
export type KeyAccess = { index: string; key: string; kind: 'read' | 'write'; units: number };

/** Write units of `bytes`: 1 per started KB (at least 1), ×2 in a transaction. */
export const writeUnits = (bytes: number, transactional: boolean) =>
  Math.max(1, Math.ceil(bytes / 1024)) * (transactional ? 2 : 1);

/**
 * Read units of `bytes` read from one partition: 1 per started 4 KB (at least 1) strongly consistent, half that
 * eventually consistent, ×2 in a transaction.
 */
export function readUnits(bytes: number, mode: 'eventual' | 'strong' | 'transactional'): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return mode === 'eventual' ? units / 2 : mode === 'strong' ? units : units * 2;
}

/**
 * The partition keys one item write touches, with units: the base table's key (the larger of the item before and
 * after), and for each index the entry removed (key gone or changed) and the entry written (key added or changed, or
 * — projection ALL — any attribute changed while the item stays indexed). `after` undefined = deleted or the write's
 * condition failed (`failed`: only the base table is charged, by the item as it was).
 */
export function itemWriteAccesses(
  write: { before: Item | undefined; after: Item | undefined; transactional: boolean; failed?: boolean },
  table: TableKeys & { globalSecondaryIndexes: readonly IndexDefinition[] },
): KeyAccess[] {
  const { before, transactional } = write;
  const after = write.failed ? before : write.after;
  const image = after ?? before;
  const baseKey = image?.[table.partitionKey]?.S;
  if (baseKey === undefined) return [];
  const accesses: KeyAccess[] = [
    {
      index: 'table',
      key: baseKey,
      kind: 'write',
      units: writeUnits(Math.max(itemBytes(before), itemBytes(write.failed ? undefined : after)), transactional),
    },
  ];
  if (write.failed) return accesses;
  for (const index of table.globalSecondaryIndexes) {
    const entry = (item: Item | undefined) => {
      const pk = item?.[index.partitionKey]?.S;
      const sk = item?.[index.sortKey];
      return pk === undefined || sk === undefined ? undefined : { pk, sk: JSON.stringify(sk) };
    };
    const old = entry(before);
    const next = entry(after);
    const size = (item: Item | undefined) => itemBytes(index.projection === 'ALL' ? item : pick(item, table, index));
    const moved = old && next ? old.pk !== next.pk || old.sk !== next.sk : true;
    if (old && (moved || !next)) {
      accesses.push({
        index: index.indexName,
        key: old.pk,
        kind: 'write',
        units: writeUnits(size(before), transactional),
      });
    }
    const changed = index.projection === 'ALL' && JSON.stringify(before) !== JSON.stringify(after);
    if (next && (moved || changed)) {
      accesses.push({
        index: index.indexName,
        key: next.pk,
        kind: 'write',
        units: writeUnits(size(after), transactional),
      });
    }
  }
  return accesses;
}

/** The attributes a KEYS_ONLY index entry holds: the table's and the index's keys. */
function pick(item: Item | undefined, table: TableKeys, index: IndexDefinition): Item | undefined {
  if (!item) return undefined;
  const names = [table.partitionKey, table.sortKey, index.partitionKey, index.sortKey];
  return Object.fromEntries(names.flatMap((name) => (item[name] ? [[name, item[name]]] : [])));
}

/**
 * How a key shape's load divides over its concrete keys: `entity` = one key per payment (or order, nonce, event),
 * touched by one flow only; `merchant` = one per merchant (the largest merchant's share hits one key); `channel` = one
 * per channel; `global` = every flow of the window (a day, a minute) shares it. `shards` further divides it.
 */
export type Scope = 'entity' | 'merchant' | 'channel' | 'global';
export type KeyShape = {
  shape: string;
  scope: Scope;
  shards: number;
  channel?: string;
  byRate?: true;
  byListing?: true;
};

/**
 * A rule: a concrete key matching `pattern` (on `index`, or any) has `shape`; `$n` in `shape` and `channel` takes group
 * n. `shards: 'rate'` — a merchant's rate-limit sub-buckets — is counted per merchant from its projected rate;
 * `shards: 'listing'` — a merchant's GSI1 listing shards — is the count an operator sets for its projected rate
 * ({@link listingShardsFor}).
 */
export type ShapeRule = {
  index?: string;
  pattern: RegExp;
  shape: string;
  scope: Scope;
  shards?: number | 'n' | 'rate' | 'listing';
} & {
  channel?: string;
};

/**
 * The shape of a concrete key by the first matching rule (a shard count of `'n'` = `shards(index)`, the count the
 * index's key has now); an unmatched key is its own shape, scoped `global` (the conservative guess).
 */
export function keyShape(
  index: string,
  key: string,
  rules: readonly ShapeRule[],
  shards: (index: string) => number,
): KeyShape {
  for (const rule of rules) {
    if (rule.index !== undefined && rule.index !== index) continue;
    const match = rule.pattern.exec(key);
    if (!match) continue;
    // Per-merchant counts ('rate', 'listing') are drawn in the projection.
    const count = rule.shards === 'n' ? shards(index) : typeof rule.shards === 'number' ? rule.shards : 1;
    const fill = (template: string) => template.replace(/\$(\d)/g, (_, n: string) => match[Number(n)] ?? '');
    const channel = rule.channel === undefined ? undefined : fill(rule.channel);
    return {
      shape: fill(rule.shape),
      scope: rule.scope,
      shards: count,
      ...(channel ? { channel } : {}),
      ...(rule.shards === 'rate' ? { byRate: true as const } : {}),
      ...(rule.shards === 'listing' ? { byListing: true as const } : {}),
    };
  }
  return { shape: key, scope: 'global', shards: 1 };
}

/** A flow kind's average accesses per flow, by index, shape and kind. */
export type FlowProfile = readonly (KeyShape & { index: string; kind: 'read' | 'write'; unitsPerFlow: number })[];

/**
 * Averages the recorded accesses of `flows` sample flows into a profile. A channel-scoped key of the sample's
 * stand-in channel (`standIn`, e.g. SANDBOX) is the projected flow's own channel (`channel` left unset).
 */
export function profileOf(accesses: readonly (KeyAccess & KeyShape)[], flows: number, standIn?: string): FlowProfile {
  const rows = new Map<string, FlowProfile[number]>();
  for (const a of accesses) {
    const channel = a.channel === standIn ? undefined : a.channel;
    const id = [a.index, a.shape, a.kind, channel ?? ''].join('\u0000');
    const row = rows.get(id);
    if (row) row.unitsPerFlow += a.units / flows;
    else
      rows.set(id, {
        index: a.index,
        shape: a.shape,
        scope: a.scope,
        shards: a.shards,
        ...(a.byRate ? { byRate: true as const } : {}),
        ...(a.byListing ? { byListing: true as const } : {}),
        kind: a.kind,
        unitsPerFlow: a.units / flows,
        ...(channel ? { channel } : {}),
      });
  }
  return [...rows.values()];
}

/** The share of a partition's write limit a merchant's hottest listing shard is sized to stay within (the goal). */
export const LISTING_SIZING_SHARE = 0.5;

/**
 * How many standard deviations of a second's hash spread the sizing allows for: ids hash uniformly, so the payments
 * a shard takes in one second are Poisson around the mean, and the hottest of N shards runs above it (sized on the
 * mean alone at 40 %, the hottest of a merchant's 32 shards drew 51 % in the projection).
 */
const LISTING_SIZING_SIGMAS = 3;

/**
 * The GSI1 listing shard count an operator sets for a merchant (`npm run merchant -- listing-shards add`): the
 * smallest power of two (1 = the default) whose shards each stay within {@link LISTING_SIZING_SHARE} of a partition
 * at the mean plus {@link LISTING_SIZING_SIGMAS} standard deviations, for `paymentsPerSecond` at `unitsPerPayment`
 * (its hottest listing key's write units per payment).
 */
export function listingShardsFor(paymentsPerSecond: number, unitsPerPayment: number): number {
  const budget = LISTING_SIZING_SHARE * PARTITION_LIMITS.write;
  let shards = 1;
  for (; shards < 2 ** 20; shards *= 2) {
    const perShard = paymentsPerSecond / shards;
    if ((perShard + LISTING_SIZING_SIGMAS * Math.sqrt(perShard)) * unitsPerPayment <= budget) break;
  }
  return shards;
}

/** Seeded 32-bit PRNG (mulberry32): the same seed draws the same traffic. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Zipf shares of `n` ranks with exponent `s` (rank 1 first), summing to 1. */
export function zipfShares(n: number, s: number): number[] {
  const weights = Array.from({ length: n }, (_, k) => (k + 1) ** -s);
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

/** The Zipf exponent at which the largest of `n` ranks takes `topShare` (bisection). */
export function zipfExponentFor(n: number, topShare: number): number {
  if (!(topShare > 1 / n && topShare < 1)) throw new Error(`top share must be in (1/${n}, 1), got ${topShare}`);
  let low = 0;
  let high = 16;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if ((zipfShares(n, mid)[0] ?? 0) < topShare) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** The target load: payments per second, the flow kinds' shares and channels, the merchants' skew, the PRNG seed. */
export type Load = {
  paymentsPerSecond: number;
  mix: readonly { kind: string; channel: string; share: number }[];
  merchants: number;
  topMerchantShare: number;
  seed: number;
};

/** The load the issue names: 100,000 payments/s, 60 % Alipay / 35 % WeChat Pay / 5 % balance, 10,000 merchants. */
export const DEFAULT_LOAD: Load = {
  paymentsPerSecond: 100_000,
  mix: [
    { kind: 'channel', channel: 'ALIPAY', share: 0.6 },
    { kind: 'channel', channel: 'WECHAT_PAY', share: 0.35 },
    { kind: 'balance', channel: 'BALANCE', share: 0.05 },
  ],
  merchants: 10_000,
  topMerchantShare: 0.2,
  seed: 12,
};

/** One projected key shape: its hottest concrete key's units/s against the partition limit. */
export type HeatRow = KeyShape & {
  index: string;
  kind: 'read' | 'write';
  /** Units per flow, by flow kind. */
  unitsPerFlow: Readonly<Record<string, number>>;
  hottest: string;
  unitsPerSecond: number;
  limit: number;
  utilisation: number;
};

/**
 * Projects flow profiles (by flow kind) to `load`: draws one second of payments (kind and channel by the mix,
 * merchant by a Zipf skew whose largest merchant takes `topMerchantShare`, shard uniformly — ids hash uniformly) with
 * a seeded PRNG, adds each payment's units per flow to the concrete key each shape maps it to, and keeps each shape's
 * hottest key. Flow kinds share a key when its parts agree (the same merchant, channel, shard). An `entity` key is
 * one payment's own (its whole flow within the second: the conservative case). A `byListing` shape (GSI1) is projected
 * twice: with each merchant at the count an operator sets for its rate ({@link listingShardsFor}), and as
 * `… (unmarked)` with every merchant at the default 1 — what a large merchant nobody raised takes. Hottest first, by
 * share of the limit.
 */
export function projectHeat(profiles: Readonly<Record<string, FlowProfile>>, load: Load): HeatRow[] {
  const random = seededRandom(load.seed);
  const cdf = cumulative(zipfShares(load.merchants, zipfExponentFor(load.merchants, load.topMerchantShare)));
  const mixCdf = cumulative(load.mix.map((m) => m.share));
  const payments = Array.from({ length: load.paymentsPerSecond }, () => ({
    mix: load.mix[search(mixCdf, random())] ?? load.mix[0],
    merchant: search(cdf, random()),
    shard: random(),
  }));
  type Shape = Omit<HeatRow, 'hottest' | 'unitsPerSecond' | 'limit' | 'utilisation'>;
  const shapes = new Map<string, Shape>();
  for (const [flowKind, profile] of Object.entries(profiles)) {
    for (const { unitsPerFlow, ...access } of profile) {
      const id = [access.index, access.shape, access.kind, access.channel ?? ''].join('\u0000');
      const row = shapes.get(id) ?? { ...access, unitsPerFlow: {} };
      shapes.set(id, { ...row, unitsPerFlow: { ...row.unitsPerFlow, [flowKind]: unitsPerFlow } });
    }
  }
  // A merchant's rate-limit sub-buckets: configured at its own rate (one request of the class per payment, burst 2 s).
  const perMerchant = new Map<number, number>();
  for (const payment of payments) perMerchant.set(payment.merchant, (perMerchant.get(payment.merchant) ?? 0) + 1);
  const subBuckets = (merchant: number) => {
    const rate = perMerchant.get(merchant) ?? 1;
    return subBucketCount({ rate, burst: 2 * rate });
  };
  // A merchant's listing shards: sized for its rate by the hottest listing key's units per payment (any flow kind).
  const listingUnits = Math.max(
    0,
    ...[...shapes.values()].flatMap((shape) => (shape.byListing ? Object.values(shape.unitsPerFlow) : [])),
  );
  const listingShards = (merchant: number) => listingShardsFor(perMerchant.get(merchant) ?? 1, listingUnits);
  const unmarked = [...shapes.values()].flatMap(({ byListing, ...shape }): Shape[] =>
    byListing ? [{ ...shape, shape: `${shape.shape} (unmarked)` }] : [],
  );
  const rows = [...shapes.values(), ...unmarked].map((shape): HeatRow => {
    const perKey = new Map<string, number>();
    const shardsOf = (merchant: number) =>
      shape.byRate ? subBuckets(merchant) : shape.byListing ? listingShards(merchant) : shape.shards;
    for (const payment of payments) {
      const units = payment.mix ? shape.unitsPerFlow[payment.mix.kind] : undefined;
      if (!units || !payment.mix) continue;
      const shards = shardsOf(payment.merchant);
      const parts = [
        shape.scope === 'entity' ? 'one payment' : undefined,
        shape.scope === 'merchant' ? `merchant #${payment.merchant + 1}` : undefined,
        shape.scope === 'channel' ? (shape.channel ?? payment.mix.channel) : undefined,
        shards > 1 ? `${shape.byRate ? 'sub-bucket' : 'shard'} ${Math.floor(payment.shard * shards)}` : undefined,
      ];
      const key = parts.filter(Boolean).join(', ') || 'one key';
      // An entity key is each payment's own: the hottest is the costliest single flow, not a sum.
      perKey.set(
        key,
        shape.scope === 'entity' ? Math.max(perKey.get(key) ?? 0, units) : (perKey.get(key) ?? 0) + units,
      );
    }
    const [hottest, unitsPerSecond] = maxEntry(perKey);
    const limit = PARTITION_LIMITS[shape.kind];
    return {
      ...shape,
      shards: shardsOf(0),
      hottest,
      unitsPerSecond,
      limit,
      utilisation: unitsPerSecond / limit,
    };
  });
  return rows.sort((a, b) => b.utilisation - a.utilisation);
}

function cumulative(shares: readonly number[]): number[] {
  let total = 0;
  return shares.map((share) => (total += share));
}

/** The first index whose cumulative share exceeds `u` (binary search). */
function search(cdf: readonly number[], u: number): number {
  let low = 0;
  let high = cdf.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((cdf[mid] ?? 1) > u) high = mid;
    else low = mid + 1;
  }
  return low;
}

function maxEntry(map: ReadonlyMap<string, number>): [string, number] {
  let best: [string, number] = ['none', 0];
  for (const entry of map) if (entry[1] > best[1]) best = entry;
  return best;
}
