import { addMinor } from '#domain/money.ts';
import { shardOf } from '#domain/shard.ts';
import { applyMovement, InsufficientBalance, type Movement, type Wallet, type WalletChange } from '#domain/wallet.ts';

/**
 * Hot accounts (docs/scaling.md). An operator can split an account's wallet into N sub-balances, each its own item
 * with its own sub-ledger, so concurrent credits stop serialising on one item: a credit lands on the sub-balance its
 * movement id picks. The account's balance is the sum of its sub-balances and equals the sum of all its sub-ledgers.
 * A movement that takes money (a debit, a freeze, a deduction or unfreeze of frozen money) stays exact and ONE
 * transaction: every sub-balance it touches is written conditional on the version read, none goes negative.
 * N = 1 is an ordinary wallet.
 */

/**
 * Most sub-balances an account can have: a movement spanning all of them (2 items each) must fit one transaction with
 * the rest of its change (at most 9 more items: payment, refund, claims, event, audit, another wallet) — 89 of 100.
 */
export const MAX_SUB_BALANCES = 40;

/** The sub-balance a movement that only adds money lands on: stable per movement id, so a retry picks the same one. */
export function creditSubBalance(movementId: string, count: number): number {
  return shardOf(movementId, count);
}

/** The balance a movement takes money from, or `undefined` when it only adds. */
export function takesFrom(movement: Movement): 'availableMinor' | 'frozenMinor' | undefined {
  if (movement.availableDeltaMinor < 0) return 'availableMinor';
  if (movement.frozenDeltaMinor < 0) return 'frozenMinor';
  return undefined;
}

/** Pure: an account's balance as it reads, the sum of its sub-balances (`version`: its entries in all sub-ledgers). */
export function totalOf(subBalances: readonly Wallet[]): Wallet {
  const [first, ...rest] = subBalances;
  if (!first) throw new RangeError('an account has at least one sub-balance');
  let total: Wallet = { ...first };
  for (const sub of rest) {
    total = {
      ...total,
      availableMinor: addMinor(total.availableMinor, sub.availableMinor),
      frozenMinor: addMinor(total.frozenMinor, sub.frozenMinor),
      version: total.version + sub.version,
      updatedAt: [total.updatedAt, sub.updatedAt]
        .filter((at) => at !== undefined)
        .sort()
        .at(-1),
    };
  }
  const { subBalance: _sub, updatedAt, ...sum } = total;
  return updatedAt === undefined ? sum : { ...sum, updatedAt };
}

/**
 * Pure: the changes of a movement that takes money, over all of an account's sub-balances (in sub-balance order). It
 * takes the whole amount from the first sub-balance that covers it alone, looking from the one the movement id picks
 * (so concurrent debits spread); only if none does, from the largest ones first, one ledger entry per sub-balance
 * touched. Refused with {@link InsufficientBalance} (of the account's total) when all together cannot cover it.
 */
export function takeFromSubBalances(
  subBalances: readonly Wallet[],
  movement: Movement,
  movementId: string,
  newLedgerId: () => string,
  at: string,
): WalletChange[] {
  const source = takesFrom(movement);
  if (!source) throw new RangeError('takeFromSubBalances needs a movement that takes money');
  const start = shardOf(movementId, subBalances.length);
  const rotated = subBalances.map((_, i) => subBalances[(start + i) % subBalances.length] as Wallet);
  const single = rotated.find((sub) => sub[source] >= movement.amountMinor);
  if (single) return [applyMovement(single, movement, newLedgerId(), at)];

  const changes: WalletChange[] = [];
  let left = movement.amountMinor;
  for (const sub of [...subBalances].sort((a, b) => b[source] - a[source])) {
    if (left === 0 || sub[source] === 0) break;
    const part = Math.min(left, sub[source]);
    changes.push(applyMovement(sub, partOf(movement, part), newLedgerId(), at));
    left -= part;
  }
  if (left > 0) throw new InsufficientBalance(totalOf(subBalances), movement.amountMinor);
  return changes;
}

/** The same movement for `amountMinor` of its amount (each delta keeps its sign). */
function partOf(movement: Movement, amountMinor: number): Movement {
  const scaled = (delta: number) => (delta === 0 ? 0 : Math.sign(delta) * amountMinor);
  return {
    ...movement,
    amountMinor,
    availableDeltaMinor: scaled(movement.availableDeltaMinor),
    frozenDeltaMinor: scaled(movement.frozenDeltaMinor),
  };
}
