import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyMovement,
  emptyWallet,
  InsufficientBalance,
  type LedgerEntry,
  type LedgerType,
  movements,
  type Wallet,
} from '#domain/wallet.ts';

const AT = '2026-11-22T10:00:00.000Z';

function walletWith(availableMinor: number, frozenMinor: number, version = 3): Wallet {
  return { ...emptyWallet('mch_1', 'user-42', 'CNY'), availableMinor, frozenMinor, version };
}

/** The wallet movements the use cases build, expressed as signed deltas of `available` and `frozen`. */
function movement(type: LedgerType, amountMinor: number) {
  const deltas: Record<LedgerType, [number, number]> = {
    RECHARGE: [amountMinor, 0],
    PAYMENT: [-amountMinor, 0],
    REFUND_FREEZE: [-amountMinor, amountMinor],
    REFUND_DEDUCT: [0, -amountMinor],
    REFUND_UNFREEZE: [amountMinor, -amountMinor],
    REFUND: [amountMinor, 0],
  };
  const [availableDeltaMinor, frozenDeltaMinor] = deltas[type];
  return { type, amountMinor, availableDeltaMinor, frozenDeltaMinor };
}

describe('emptyWallet', () => {
  it('reads zero balances at version 0', () => {
    expect(emptyWallet('mch_1', 'user-42', 'JPY')).toEqual({
      merchantId: 'mch_1',
      accountId: 'user-42',
      currency: 'JPY',
      availableMinor: 0,
      frozenMinor: 0,
      version: 0,
    });
  });
});

describe('credit', () => {
  it('increases available and the version, and numbers the ledger entry with the new version', () => {
    const change = applyMovement(walletWith(500, 200, 3), movements.credit(1_000, 'pay_1'), 'led_1', AT);
    expect(change.expectedVersion).toBe(3);
    expect(change.wallet).toMatchObject({ availableMinor: 1_500, frozenMinor: 200, version: 4, updatedAt: AT });
    expect(change.entry).toEqual({
      id: 'led_1',
      merchantId: 'mch_1',
      accountId: 'user-42',
      currency: 'CNY',
      seq: 4,
      type: 'RECHARGE',
      availableDeltaMinor: 1_000,
      frozenDeltaMinor: 0,
      amountMinor: 1_000,
      availableAfterMinor: 1_500,
      frozenAfterMinor: 200,
      paymentId: 'pay_1',
      createdAt: AT,
    });
  });

  it('creates the wallet from an empty one, expecting version 0', () => {
    const change = applyMovement(emptyWallet('mch_1', 'user-42', 'CNY'), movements.credit(1, 'pay_1'), 'led_1', AT);
    expect(change.expectedVersion).toBe(0);
    expect(change.wallet.version).toBe(1);
    expect(change.entry.seq).toBe(1);
    expect(change.wallet.availableMinor).toBe(1);
  });

  it('leaves the wallet it was given unchanged', () => {
    const wallet = walletWith(500, 0);
    const before = structuredClone(wallet);
    applyMovement(wallet, movements.credit(100, 'pay_1'), 'led_1', AT);
    expect(wallet).toEqual(before);
  });

  it.each([0, -1, Number.NaN])('rejects a non-positive amount %d', (amount) => {
    expect(() => applyMovement(walletWith(500, 0), movements.credit(amount, 'pay_1'), 'led_1', AT)).toThrow(RangeError);
  });

  it('rejects a fractional amount', () => {
    expect(() => applyMovement(walletWith(500, 0), movements.credit(0.5, 'pay_1'), 'led_1', AT)).toThrow(RangeError);
  });
});

describe('applyMovement', () => {
  it('moves an amount from available to frozen on REFUND_FREEZE and records the refund', () => {
    const change = applyMovement(
      walletWith(1_000, 0),
      { ...movement('REFUND_FREEZE', 300), paymentId: 'pay_1', refundId: 'ref_1' },
      'led_2',
      AT,
    );
    expect(change.wallet).toMatchObject({ availableMinor: 700, frozenMinor: 300, version: 4 });
    expect(change.entry).toMatchObject({
      seq: 4,
      type: 'REFUND_FREEZE',
      amountMinor: 300,
      availableDeltaMinor: -300,
      frozenDeltaMinor: 300,
      availableAfterMinor: 700,
      frozenAfterMinor: 300,
      paymentId: 'pay_1',
      refundId: 'ref_1',
    });
  });

  it('leaves payment and refund ids off an entry that has none', () => {
    const { entry } = applyMovement(walletWith(1_000, 0), movement('PAYMENT', 100), 'led_2', AT);
    expect(entry).not.toHaveProperty('paymentId');
    expect(entry).not.toHaveProperty('refundId');
  });

  it('allows a movement that empties the wallet exactly', () => {
    const change = applyMovement(walletWith(1_000, 0), movement('PAYMENT', 1_000), 'led_2', AT);
    expect(change.wallet.availableMinor).toBe(0);
  });

  it.each([
    ['a PAYMENT beyond available', walletWith(999, 5_000), movement('PAYMENT', 1_000)],
    ['a REFUND_FREEZE beyond available', walletWith(999, 0), movement('REFUND_FREEZE', 1_000)],
    ['a REFUND_DEDUCT beyond frozen', walletWith(5_000, 999), movement('REFUND_DEDUCT', 1_000)],
    ['a REFUND_UNFREEZE beyond frozen', walletWith(5_000, 999), movement('REFUND_UNFREEZE', 1_000)],
  ])('refuses %s with InsufficientBalance and changes nothing', (_label, wallet, move) => {
    const before = structuredClone(wallet);
    let change: unknown;
    expect(() => {
      change = applyMovement(wallet, move, 'led_2', AT);
    }).toThrow(InsufficientBalance);
    expect(change).toBeUndefined();
    expect(wallet).toEqual(before);
  });

  it('reports the wallet and the amount it could not cover', () => {
    const wallet = walletWith(10, 0);
    let error: unknown;
    try {
      applyMovement(wallet, movement('PAYMENT', 11), 'led_2', AT);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InsufficientBalance);
    expect(error).toMatchObject({ name: 'InsufficientBalance', amountMinor: 11, wallet });
  });

  it.each([0, -5])('rejects a movement whose amount is %d', (amount) => {
    expect(() =>
      applyMovement(
        walletWith(1_000, 0),
        { type: 'PAYMENT', amountMinor: amount, availableDeltaMinor: 0, frozenDeltaMinor: 0 },
        'led_2',
        AT,
      ),
    ).toThrow(RangeError);
  });
});

describe('wallet properties', () => {
  const step = fc.record({
    type: fc.constantFrom<LedgerType>('RECHARGE', 'PAYMENT', 'REFUND_FREEZE', 'REFUND_DEDUCT', 'REFUND_UNFREEZE'),
    amount: fc.integer({ min: 1, max: 1_000_000 }),
  });

  it('keeps balances non-negative and equal to the sums of the ledger deltas, with gap-free seq', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let wallet = emptyWallet('mch_1', 'user-42', 'CNY');
        const ledger: LedgerEntry[] = [];
        for (const [index, { type, amount }] of steps.entries()) {
          const before = wallet;
          const id = `led_${index}`;
          let change: ReturnType<typeof applyMovement>;
          try {
            change =
              type === 'RECHARGE'
                ? applyMovement(wallet, movements.credit(amount, 'pay_1'), id, AT)
                : applyMovement(wallet, movement(type, amount), id, AT);
          } catch (error) {
            expect(error).toBeInstanceOf(InsufficientBalance);
            const { availableDeltaMinor, frozenDeltaMinor } = movement(type, amount);
            // Refused only when it really would have gone negative.
            expect(before.availableMinor + availableDeltaMinor < 0 || before.frozenMinor + frozenDeltaMinor < 0).toBe(
              true,
            );
            continue;
          }
          expect(change.expectedVersion).toBe(before.version);
          expect(change.entry.seq).toBe(before.version + 1);
          wallet = change.wallet;
          ledger.push(change.entry);
          expect(wallet.availableMinor).toBeGreaterThanOrEqual(0);
          expect(wallet.frozenMinor).toBeGreaterThanOrEqual(0);
          expect(change.entry.availableAfterMinor).toBe(wallet.availableMinor);
          expect(change.entry.frozenAfterMinor).toBe(wallet.frozenMinor);
        }
        expect(ledger.reduce((sum, entry) => sum + entry.availableDeltaMinor, 0)).toBe(wallet.availableMinor);
        expect(ledger.reduce((sum, entry) => sum + entry.frozenDeltaMinor, 0)).toBe(wallet.frozenMinor);
        expect(ledger.map((entry) => entry.seq)).toEqual(ledger.map((_, index) => index + 1));
        expect(wallet.version).toBe(ledger.length);
      }),
      { numRuns: 200 },
    );
  });
});
