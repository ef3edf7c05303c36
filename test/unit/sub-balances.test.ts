import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { creditSubBalance, takeFromSubBalances, totalOf } from '#domain/sub-balances.ts';
import { emptyWallet, InsufficientBalance, movements, type Wallet } from '#domain/wallet.ts';

const AT = '2026-12-02T10:00:00.000Z';
const REF = { paymentId: 'pay_1', refundId: 'ref_1' };

function subBalances(amounts: readonly [number, number][]): Wallet[] {
  return amounts.map(([availableMinor, frozenMinor], sub) => ({
    ...emptyWallet('mch_1', 'hot', 'CNY'),
    availableMinor,
    frozenMinor,
    version: sub + 1,
    ...(sub === 0 ? {} : { subBalance: sub }),
  }));
}

const subsArb = fc.array(fc.tuple(fc.nat({ max: 5_000 }), fc.nat({ max: 5_000 })), {
  minLength: 1,
  maxLength: 8,
});
const takingMovements = [
  (amount: number) => movements.debit(amount, 'pay_1'),
  (amount: number) => movements.freezeForRefund(amount, REF),
  (amount: number) => movements.deductFrozen(amount, REF),
  (amount: number) => movements.unfreeze(amount, REF),
];

describe('takeFromSubBalances', () => {
  it('takes exactly the amount, leaves no sub-balance negative, or refuses when the total cannot cover it', () => {
    let ledger = 0;
    fc.assert(
      fc.property(
        subsArb,
        fc.integer({ min: 1, max: 20_000 }),
        fc.constantFrom(...takingMovements),
        fc.string(),
        (amounts, amount, make, movementId) => {
          const subs = subBalances(amounts);
          const movement = make(amount);
          const source = movement.availableDeltaMinor < 0 ? 'availableMinor' : 'frozenMinor';
          const before = totalOf(subs);
          if (before[source] < amount) {
            expect(() => takeFromSubBalances(subs, movement, movementId, () => `led_${ledger++}`, AT)).toThrow(
              InsufficientBalance,
            );
            return;
          }
          const changes = takeFromSubBalances(subs, movement, movementId, () => `led_${ledger++}`, AT);
          const after = subs.map((sub) => changes.find((c) => c.wallet.subBalance === sub.subBalance)?.wallet ?? sub);
          const total = totalOf(after);
          // Money is conserved: available + frozen moves by the movement's net change, each by its own delta.
          expect(total.availableMinor - before.availableMinor).toBe(movement.availableDeltaMinor);
          expect(total.frozenMinor - before.frozenMinor).toBe(movement.frozenDeltaMinor);
          expect(changes.reduce((sum, c) => sum + c.entry.amountMinor, 0)).toBe(amount);
          for (const wallet of after)
            expect(Math.min(wallet.availableMinor, wallet.frozenMinor)).toBeGreaterThanOrEqual(0);
          // Each touched sub-balance once, conditional on the version read, with its own ledger line.
          expect(new Set(changes.map((c) => c.wallet.subBalance)).size).toBe(changes.length);
          for (const change of changes) {
            const read = subs.find((sub) => sub.subBalance === change.wallet.subBalance) as Wallet;
            expect(change.expectedVersion).toBe(read.version);
            expect(change.entry.seq).toBe(read.version + 1);
            expect(change.entry.subBalance).toBe(read.subBalance);
          }
          // One sub-balance whenever one covers the amount alone.
          if (subs.some((sub) => sub[source] >= amount)) expect(changes).toHaveLength(1);
        },
      ),
    );
  });

  it('refuses a movement that only adds (credits go to creditSubBalance)', () => {
    expect(() =>
      takeFromSubBalances(subBalances([[0, 0]]), movements.credit(1, 'pay_1'), 'pay_1', () => 'l', AT),
    ).toThrow(RangeError);
  });
});

describe('creditSubBalance', () => {
  it('is stable per movement id and spreads ids over every sub-balance', () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => `pay_${i.toString(36).padStart(8, '0')}`);
    for (const id of ids.slice(0, 20)) expect(creditSubBalance(id, 16)).toBe(creditSubBalance(id, 16));
    expect(new Set(ids.map((id) => creditSubBalance(id, 16))).size).toBe(16);
    expect(creditSubBalance('pay_any', 1)).toBe(0);
  });
});

describe('totalOf', () => {
  it("sums a hot account's sub-balances; its version counts all sub-ledgers' entries", () => {
    const total = totalOf([
      ...subBalances([
        [100, 5],
        [250, 0],
      ]),
      {
        ...emptyWallet('mch_1', 'hot', 'CNY'),
        subBalance: 2,
        availableMinor: 1,
        frozenMinor: 2,
        version: 4,
        updatedAt: AT,
      },
    ]);
    expect(total).toEqual({
      merchantId: 'mch_1',
      accountId: 'hot',
      currency: 'CNY',
      availableMinor: 351,
      frozenMinor: 7,
      version: 7,
      updatedAt: AT,
    });
  });
});
