import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keys, part, walletPartition } from '#adapters/dynamo/keys.ts';

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
