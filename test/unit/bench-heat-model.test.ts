import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { AUDIT_SHARDS } from '#adapters/dynamo/keys.ts';
import { TABLE_DEFINITION } from '#adapters/dynamo/table-definition.ts';
import { queryPartition, SHAPE_RULES } from '../../bench/heat.ts';
import {
  DEFAULT_LOAD,
  type FlowProfile,
  itemBytes,
  itemWriteAccesses,
  keyShape,
  type Load,
  listingShardsFor,
  profileOf,
  projectHeat,
  readUnits,
  seededRandom,
  writeUnits,
  zipfExponentFor,
  zipfShares,
} from '../../bench/heat-model.ts';

type Item = Record<string, AttributeValue>;
const s = (value: string): AttributeValue => ({ S: value });

describe('DynamoDB unit rules', () => {
  it.each([
    ['a string by its UTF-8 bytes', { ab: s('xyz') }, 5],
    ['multi-byte characters', { a: s('é') }, 3],
    ['a number by its significant digits', { n: { N: '12345' } }, 1 + 4],
    ['a map: 3 + each name and value + 1 each', { m: { M: { k: s('v') } } }, 1 + 3 + 1 + 1 + 1],
    ['a list: 3 + each value + 1 each', { l: { L: [s('ab'), { BOOL: true }] } }, 1 + 3 + 3 + 2],
    ['nothing', undefined, 0],
  ])('item bytes: %s', (_label, item, bytes) => {
    expect(itemBytes(item as Item | undefined)).toBe(bytes);
  });

  it.each([
    [1, false, 1],
    [1024, false, 1],
    [1025, false, 2],
    [0, true, 2],
    [3000, true, 6],
  ])('%i bytes written (transaction %s) = %i WCU', (bytes, transactional, units) => {
    expect(writeUnits(bytes, transactional)).toBe(units);
  });

  it.each([
    [100, 'eventual', 0.5],
    [4096, 'strong', 1],
    [4097, 'strong', 2],
    [4097, 'eventual', 1],
    [10, 'transactional', 2],
  ] as const)('%i bytes read %s = %d RCU', (bytes, mode, units) => {
    expect(readUnits(bytes, mode)).toBe(units);
  });
});

describe('itemWriteAccesses', () => {
  const payment = (extra: Item): Item => ({ PK: s('PAYMENT#p1'), SK: s('PAYMENT'), status: s('PENDING'), ...extra });
  const gsi1 = { GSI1PK: s('MERCHANT#m#3'), GSI1SK: s('t#p1') };
  const gsi3 = { GSI3PK: s('EXPIRY#m'), GSI3SK: s('p1') };
  const write = (before: Item | undefined, after: Item | undefined, transactional = false, failed = false) =>
    itemWriteAccesses({ before, after, transactional, failed }, TABLE_DEFINITION).map(
      (a) => `${a.index} ${a.key} ${a.units}`,
    );

  it.each([
    [
      'a new item: the table and each index it enters',
      undefined,
      payment({ ...gsi1, ...gsi3 }),
      false,
      false,
      ['table PAYMENT#p1 1', 'GSI1 MERCHANT#m#3 1', 'GSI3 EXPIRY#m 1'],
    ],
    [
      'a transaction doubles every unit',
      undefined,
      payment(gsi1),
      true,
      false,
      ['table PAYMENT#p1 2', 'GSI1 MERCHANT#m#3 2'],
    ],
    [
      'an update leaving a KEYS_ONLY index (key removed) deletes its entry; ALL rewrites on any change',
      payment({ ...gsi1, ...gsi3 }),
      payment({ ...gsi1, status: s('SUCCEEDED') }),
      false,
      false,
      ['table PAYMENT#p1 1', 'GSI1 MERCHANT#m#3 1', 'GSI3 EXPIRY#m 1'],
    ],
    [
      'an unchanged item (a condition check) writes no index',
      payment({ ...gsi1, ...gsi3 }),
      payment({ ...gsi1, ...gsi3 }),
      true,
      false,
      ['table PAYMENT#p1 2'],
    ],
    [
      'a moved index key: delete the old entry, put the new',
      payment({ GSI2PK: s('CHANNEL#A#d#1'), GSI2SK: s('x') }),
      payment({ GSI2PK: s('CHANNEL#A#d#2'), GSI2SK: s('x') }),
      false,
      false,
      ['table PAYMENT#p1 1', 'GSI2 CHANNEL#A#d#1 1', 'GSI2 CHANNEL#A#d#2 1'],
    ],
    ['a failed condition: the table only', payment(gsi1), undefined, false, true, ['table PAYMENT#p1 1']],
    [
      'an item over 1 KB: by the larger image',
      payment({ big: s('x'.repeat(1500)) }),
      payment({}),
      false,
      false,
      ['table PAYMENT#p1 2'],
    ],
  ])('%s', (_label, before, after, transactional, failed, expected) => {
    expect(write(before, after, transactional, failed)).toEqual(expected);
  });
});

describe('key shapes', () => {
  const shards = (index: string) => ({ GSI1: 128, GSI2: 64, GSI3: 16 })[index] ?? 1;
  it.each([
    ['table', 'MERCHANT#mch_1', 'MERCHANT#{m} (profile)', 'merchant', 1],
    ['table', 'MERCHANT#mch_1#ORDER#o-1', 'MERCHANT#{m}#ORDER#{order_no}', 'entity', 1],
    ['table', 'PAYMENT#pay_1', 'PAYMENT#{id}', 'entity', 1],
    ['table', 'RATE#mch_1#write', 'RATE#{m}#write#{sub-bucket}', 'merchant', 1],
    ['table', 'RATE#mch_1#read#17', 'RATE#{m}#read#{sub-bucket}', 'merchant', 1],
    ['table', 'ACCOUNT#mch_1#settlement#CNY', 'ACCOUNT#{m}#{settlement}#{cur}', 'merchant', 1],
    ['table', 'ACCOUNT#mch_1#user-7#CNY', 'ACCOUNT#{m}#{payer or user}#{cur}', 'entity', 1],
    ['table', 'AUDIT#2026-12-02#5', 'AUDIT#{day}#{shard}', 'global', AUDIT_SHARDS],
    // GSI1's listing keys: each merchant's own count, drawn in the projection (1 here).
    ['GSI1', 'MERCHANT#mch_1#17', 'MERCHANT#{m}#{shard}', 'merchant', 1],
    ['GSI1', 'MERCHANT#mch_1#EVENTS#3', 'MERCHANT#{m}#EVENTS#{shard}', 'merchant', 1],
    ['GSI2', 'CHANNEL#ALIPAY#2026-12-02#9', 'CHANNEL#{channel}#{day}#{shard}', 'channel', 64],
    ['GSI3', 'EXPIRY#2026-12-02T10:00', 'EXPIRY#{minute}#{shard}', 'global', 16],
    ['GSI3', 'EXPIRY#2026-12-02T10:00#4', 'EXPIRY#{minute}#{shard}', 'global', 16],
    ['table', 'SOMETHING#new', 'SOMETHING#new', 'global', 1],
  ])('%s %s → %s', (index, key, shape, scope, count) => {
    expect(keyShape(index, key, SHAPE_RULES, shards)).toMatchObject({ shape, scope, shards: count });
  });

  it('marks the listing keys as counted per merchant', () => {
    expect(keyShape('GSI1', 'MERCHANT#mch_1#0', SHAPE_RULES, shards).byListing).toBe(true);
    expect(keyShape('GSI1', 'MERCHANT#mch_1', SHAPE_RULES, shards).byListing).toBeUndefined();
  });

  it('takes the channel from the key', () => {
    expect(keyShape('GSI2', 'CHANNEL#WECHAT_PAY#2026-12-02#1', SHAPE_RULES, () => 4).channel).toBe('WECHAT_PAY');
  });

  it('reads the partition key of a query', () => {
    const input = {
      KeyConditionExpression: '#pk = :pk AND #sk > :after',
      ExpressionAttributeNames: { '#pk': 'GSI1PK', '#sk': 'GSI1SK' },
      ExpressionAttributeValues: { ':pk': s('MERCHANT#m#1'), ':after': s('t') },
    };
    expect(queryPartition(input, 'GSI1PK')).toBe('MERCHANT#m#1');
    expect(queryPartition({ ...input, KeyConditionExpression: 'PK = :pk' }, 'PK')).toBe('MERCHANT#m#1');
  });
});

describe('Zipf merchants and the seeded PRNG', () => {
  it.each([
    [10_000, 0.2],
    [10_000, 0.05],
    [100, 0.5],
  ])('the exponent for %i merchants makes the largest take %d', (n, top) => {
    const shares = zipfShares(n, zipfExponentFor(n, top));
    expect(shares[0]).toBeCloseTo(top, 6);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  it('rejects a share no skew can give', () => {
    expect(() => zipfExponentFor(10, 0.05)).toThrow(/top share/);
  });

  it('draws the same numbers from the same seed, in [0, 1)', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const draws = Array.from({ length: 1000 }, () => a());
    expect(draws).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(seededRandom(8)()).not.toBe(draws[0]);
  });
});

describe('projectHeat', () => {
  const load: Load = { ...DEFAULT_LOAD, paymentsPerSecond: 20_000 };
  const row = (shape: string, scope: FlowProfile[number]['scope'], shards: number, unitsPerFlow: number) => ({
    index: 'table',
    shape,
    scope,
    shards,
    kind: 'write' as const,
    unitsPerFlow,
  });
  const project = (profile: FlowProfile, both = false) =>
    projectHeat({ channel: profile, ...(both ? { balance: profile } : {}) }, load);
  const units = (rows: ReturnType<typeof projectHeat>, shape: string) =>
    rows.find((r) => r.shape === shape)?.unitsPerSecond ?? Number.NaN;

  it.each([
    // One key for every channel flow (95 % of the payments), 2 units each.
    ['global', 1, 2, 0.95 * 20_000 * 2, 0.02],
    // The largest merchant (20 %) of the channel flows.
    ['merchant', 1, 1, 0.2 * 0.95 * 20_000, 0.05],
    // Alipay's 60 % over 16 shards: the hottest shard is a little above the mean.
    ['channel', 16, 1, (0.6 * 20_000) / 16, 0.15],
  ] as const)('a %s key over %i shard(s) at %i units per flow', (scope, shards, perFlow, expected, tolerance) => {
    const rows = project([row('K', scope, shards, perFlow)]);
    const got = units(rows, 'K');
    expect(got).toBeGreaterThanOrEqual(expected * (1 - tolerance));
    expect(got).toBeLessThanOrEqual(expected * (1 + tolerance));
  });

  it("divides a rate bucket over the merchant's own sub-buckets, counted from its projected rate", () => {
    const bucket = { ...row('RATE', 'merchant', 1, 1), byRate: true as const };
    const [projected] = project([bucket]);
    // The largest merchant: ~4,000 payments/s (20 % of 20,000) → 16 sub-buckets; its ~3,800 channel flows over them.
    expect(projected?.shards).toBe(16);
    expect(projected?.hottest).toMatch(/^merchant #1, sub-bucket \d+$/);
    expect(projected?.unitsPerSecond).toBeGreaterThan(3800 / 16);
    expect(projected?.unitsPerSecond).toBeLessThan(1.5 * (3800 / 16));
  });

  it.each([
    // 4 WCU per payment on its payments key: the hottest shard within 50 % of 1,000 WCU at the mean + 3 standard
    // deviations of a second's Poisson spread — 1 shard up to ~90 payments/s, then powers of two.
    [10, 4, 1],
    [89, 4, 1],
    [100, 4, 2],
    [101, 4, 2],
    [1_000, 4, 16],
    [20_000, 4, 256],
    [20_000, 2, 128],
  ])('an operator gives a merchant of %i payments/s at %i WCU each %i listing shard(s)', (rate, units, count) => {
    expect(listingShardsFor(rate, units)).toBe(count);
  });

  it('at 100,000 payments/s every merchant at its operator-set count keeps GSI1 ≤ 50 %; unmarked, the largest is over', () => {
    const listing = { ...row('MERCHANT#{m}#{shard}', 'merchant', 1, 4), index: 'GSI1', byListing: true as const };
    const events = { ...listing, shape: 'MERCHANT#{m}#EVENTS#{shard}', unitsPerFlow: 2 };
    const rows = projectHeat(
      { channel: [listing, events], balance: [{ ...listing, unitsPerFlow: 2 }, events] },
      DEFAULT_LOAD,
    );
    const byShape = new Map(rows.map((r) => [r.shape, r]));
    const marked = byShape.get('MERCHANT#{m}#{shard}');
    // The largest merchant: ~20,000 payments/s × 4 → 256 shards, ~300 WCU/s each (the hash spreads it unevenly).
    expect(marked?.shards).toBe(256);
    expect(marked?.utilisation).toBeLessThanOrEqual(0.5);
    expect(byShape.get('MERCHANT#{m}#EVENTS#{shard}')?.utilisation).toBeLessThanOrEqual(0.5);
    const unmarked = byShape.get('MERCHANT#{m}#{shard} (unmarked)');
    expect(unmarked?.shards).toBe(1);
    expect(unmarked?.hottest).toBe('merchant #1');
    expect(unmarked?.utilisation).toBeGreaterThan(50);
  });

  it('an entity key carries one flow, and flow kinds sharing a key add up', () => {
    const rows = project([row('E', 'entity', 1, 3), row('G', 'global', 1, 1)], true);
    expect(units(rows, 'E')).toBe(3);
    expect(units(rows, 'G')).toBe(20_000);
  });

  it('is deterministic for a seed, sorted hottest first, against the limit of its kind', () => {
    const profile = [row('A', 'merchant', 1, 1), { ...row('B', 'global', 1, 1), kind: 'read' as const }];
    const first = project(profile);
    expect(project(profile)).toEqual(first);
    // B: every flow's read, 19,000 of 3,000 RCU; A: the largest merchant's writes, ~3,800 of 1,000 WCU.
    expect(first.map((r) => r.shape)).toEqual(['B', 'A']);
    expect(first.map((r) => r.limit)).toEqual([3000, 1000]);
    expect(first[0]?.utilisation).toBeCloseTo((first[0]?.unitsPerSecond ?? 0) / 3000, 9);
  });

  it('profiles average the recorded accesses per flow; the stand-in channel becomes the flow channel', () => {
    const shape = { shape: 'CHANNEL#{channel}', scope: 'channel' as const, shards: 1 };
    const accesses = [
      { index: 'table', key: 'CHANNEL#SANDBOX', kind: 'read' as const, units: 1, ...shape, channel: 'SANDBOX' },
      { index: 'table', key: 'CHANNEL#SANDBOX', kind: 'read' as const, units: 2, ...shape, channel: 'SANDBOX' },
      { index: 'table', key: 'CHANNEL#BALANCE', kind: 'read' as const, units: 4, ...shape, channel: 'BALANCE' },
    ];
    expect(profileOf(accesses, 2, 'SANDBOX')).toEqual([
      { index: 'table', kind: 'read', unitsPerFlow: 1.5, ...shape },
      { index: 'table', kind: 'read', unitsPerFlow: 2, ...shape, channel: 'BALANCE' },
    ]);
  });
});
