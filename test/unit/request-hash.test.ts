import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requestHash } from '#app/request-hash.ts';

describe('requestHash', () => {
  it('is a lowercase hex SHA-256', () => {
    expect(requestHash({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on key order, at any depth', () => {
    expect(requestHash({ a: 1, b: { c: 'x', d: [1, { e: 2, f: 3 }] } })).toBe(
      requestHash({ b: { d: [1, { f: 3, e: 2 }], c: 'x' }, a: 1 }),
    );
  });

  it('ignores keys whose value is undefined', () => {
    expect(requestHash({ a: 1, b: undefined, c: { d: undefined } })).toBe(requestHash({ a: 1, c: {} }));
  });

  it('tells null apart from an absent key', () => {
    expect(requestHash({ a: 1, b: null })).not.toBe(requestHash({ a: 1 }));
  });

  it.each([
    [{ amount: '100.00' }, { amount: '100.01' }],
    [{ amount: '1' }, { amount: 1 }],
    [{ a: 1 }, { b: 1 }],
    [{ a: [1, 2] }, { a: [2, 1] }],
    [{ a: { b: 1 } }, { a: '{"b":1}' }],
    [{ 'a,b': 1 }, { a: 1, b: 1 }],
    [{ a: 'x', b: 'y' }, { a: 'x","b":"y' }],
  ])('gives different hashes to %j and %j', (left, right) => {
    expect(requestHash(left)).not.toBe(requestHash(right));
  });

  it('hashes equal for any permutation of the same keys', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const reversed = Object.fromEntries(Object.entries(object).reverse());
        expect(requestHash(reversed)).toBe(requestHash(object));
      }),
      { numRuns: 200 },
    );
  });

  it('hashes differently when one value changes', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string()), fc.string(), fc.string(), fc.string(), (rest, key, a, b) => {
        fc.pre(a !== b);
        expect(requestHash({ ...rest, [key]: a })).not.toBe(requestHash({ ...rest, [key]: b }));
      }),
      { numRuns: 200 },
    );
  });
});
