import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EXPIRY_SHARDED_SINCE,
  expiryPartitions,
  keys,
  merchantListingRegimes,
  part,
  settlementDayPartitions,
  walletPartition,
} from '#adapters/dynamo/keys.ts';
import { shardOf } from '#domain/shard.ts';
import { shardCount } from '#domain/sharded-limit.ts';

/** Strings rich in separators and escape characters, where a naive join would collide. */
const keyPart = fc.string({ unit: fc.constantFrom('a', 'b', '#', '%', '2', '3', 'K'), maxLength: 8 });
const pair = fc.tuple(keyPart, keyPart);
const joined = (key: { PK: string; SK: string }) => `${key.PK}\u0000${key.SK}`;

describe('tenant-safe keys', () => {
  it('never maps two distinct (merchant, key) pairs to one item, for every two-part key', () => {
    const builders = [keys.idempotency, keys.orderGuard, keys.refundGuard, keys.nonce];
    fc.assert(
      fc.property(pair, pair, ([m1, k1], [m2, k2]) => {
        fc.pre(m1 !== m2 || k1 !== k2);
        for (const build of builders) expect(joined(build(m1, k1))).not.toBe(joined(build(m2, k2)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('never maps two distinct (merchant, account, currency) triples to one wallet', () => {
    fc.assert(
      fc.property(fc.tuple(keyPart, keyPart, keyPart), fc.tuple(keyPart, keyPart, keyPart), (a, b) => {
        fc.pre(a.join('\u0001') !== b.join('\u0001'));
        expect(walletPartition(...a)).not.toBe(walletPartition(...b));
      }),
      { numRuns: 2_000 },
    );
  });

  it("keeps merchant m's key k#K1 apart from merchant m#k's key K1", () => {
    expect(keys.idempotency('m', 'k#K1')).not.toEqual(keys.idempotency('m#k', 'K1'));
    expect(keys.idempotency('m', 'k#K1').PK).toBe('IDEM#m#k%23K1');
  });

  it('leaves the values the gateway generates and the API allows unchanged', () => {
    for (const value of ['pay_01HZX', 'mch_ab12-cd', 'ORD-2026_1', 'CNY', 'user.42:x@y'])
      expect(part(value)).toBe(value);
  });
});

describe('write-sharded index keys', () => {
  const steps = [
    { from: '0000-01-01', shards: 1 },
    { from: '2027-01-01', shards: 4 },
    { from: '2027-06-01', shards: 16 },
  ];

  it('takes the count in effect at a key date, so a later step never changes an earlier day', () => {
    expect(shardCount(steps, '2026-12-31')).toBe(1);
    expect(shardCount(steps, '2026-12-31T23:59')).toBe(1);
    expect(shardCount(steps, '2027-01-01')).toBe(4);
    expect(shardCount(steps, '2027-05-31T23:59:59.999Z')).toBe(4);
    expect(shardCount(steps, '2027-06-01T00:00')).toBe(16);
  });

  it('puts an id on one stable shard, and spreads ids over every shard', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `pay_${i.toString(36)}x${(i * 7919).toString(36)}`);
    for (const id of ids.slice(0, 50)) expect(shardOf(id, 128)).toBe(shardOf(id, 128));
    const used = new Set(ids.map((id) => shardOf(id, 128)));
    expect(used.size).toBe(128);
  });

  it('lists every shard a reader must query: the unsharded key before sharding, all shards after', () => {
    expect(settlementDayPartitions('ALIPAY', '2026-11-30')).toEqual(['CHANNEL#ALIPAY#2026-11-30']);
    const after = settlementDayPartitions('ALIPAY', '2026-12-02');
    expect(new Set(after).size).toBe(128);
    expect(expiryPartitions('2026-12-02T10:00')).toEqual(['EXPIRY#2026-12-02T10:00']);
    // GSI3 from its step on: 1,024 shards, or the local cap the tests run with (EXPIRY_SHARD_CAP).
    expect(expiryPartitions(`${EXPIRY_SHARDED_SINCE}T00:00`)).toEqual(
      ['0', '1', '2', '3'].map((s) => `EXPIRY#${EXPIRY_SHARDED_SINCE}T00:00#${s}`),
    );
    // GSI2: 512 shards, 1,024 from 2026-12-05 (a step of its own; the local cap is GSI3's only).
    expect(new Set(settlementDayPartitions('ALIPAY', '2026-12-04')).size).toBe(512);
    expect(new Set(settlementDayPartitions('ALIPAY', '2026-12-05')).size).toBe(1024);
    const cap = process.env.EXPIRY_SHARD_CAP;
    try {
      delete process.env.EXPIRY_SHARD_CAP;
      expect(new Set(expiryPartitions('2026-12-04T10:00')).size).toBe(1024);
      expect(new Set(expiryPartitions('2027-01-01T10:00')).size).toBe(2048);
      expect(expiryPartitions('2026-12-03T23:59')).toEqual(['EXPIRY#2026-12-03T23:59']);
    } finally {
      process.env.EXPIRY_SHARD_CAP = cap;
    }
    // GSI1: the global plan's regimes (1, 128, 256) before the per-merchant cutover, then the merchant's own count.
    const regimes = merchantListingRegimes('mch_1', 'payments', undefined);
    expect(regimes.map((regime) => [regime.from, regime.to, regime.partitions.length])).toEqual([
      ['2026-12-05', undefined, 1],
      ['2026-12-03', '2026-12-05', 256],
      ['2026-12-01', '2026-12-03', 128],
      [undefined, '2026-12-01', 1],
    ]);
    expect(regimes[0]?.partitions).toEqual(['MERCHANT#mch_1#0']);
    expect(regimes[3]?.partitions).toEqual(['MERCHANT#mch_1']);
  });
});
