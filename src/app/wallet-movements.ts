import type { AccountRef, WalletRepository } from '#app/ports.ts';
import { creditSubBalance, takeFromSubBalances, takesFrom } from '#domain/sub-balances.ts';
import { applyMovement, type Movement, type WalletChange } from '#domain/wallet.ts';
import type { IdPrefix } from '#shared/ids.ts';

/** What moving money in a wallet needs. */
export interface WalletMovementDeps {
  wallets: WalletRepository;
  newId: (prefix: IdPrefix) => string;
}

/**
 * The wallet changes (with their ledger entries) of one movement on an account, to commit with the rest of the
 * transition. A movement that only adds reads and changes the one sub-balance `movementId` picks (an ordinary wallet
 * has only one); one that takes money reads them all and takes it exactly (`takeFromSubBalances`), refusing with
 * `InsufficientBalance` when the account cannot cover it. Every change is conditional on the version read.
 */
export async function moveWallet(
  deps: WalletMovementDeps,
  account: AccountRef,
  movement: Movement,
  movementId: string,
  at: string,
): Promise<WalletChange[]> {
  const count = await deps.wallets.subBalanceCount(account, false);
  if (!takesFrom(movement)) {
    const [wallet] = await deps.wallets.subBalances(account, [creditSubBalance(movementId, count)]);
    if (!wallet) throw new Error('the repository returned no sub-balance');
    return [applyMovement(wallet, movement, deps.newId('led'), at)];
  }
  const all = await deps.wallets.subBalances(
    account,
    Array.from({ length: count }, (_, i) => i),
  );
  return takeFromSubBalances(all, movement, movementId, () => deps.newId('led'), at);
}
