import type { WalletRepository } from '#app/ports.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { LedgerEntry, Wallet } from '#domain/wallet.ts';

/**
 * A merchant's wallet (a hot account's sub-balances summed); wallets are keyed by merchant, so one merchant can never
 * read another's.
 */
export function getBalance(
  deps: { wallets: WalletRepository },
  merchant: Merchant,
  accountId: string,
  currency: string,
): Promise<Wallet> {
  return deps.wallets.get(merchant.id, accountId, currency);
}

/** A page of a wallet's ledger (all its sub-ledgers), newest first, and where the next page continues. */
export function listLedger(
  deps: { wallets: WalletRepository },
  merchant: Merchant,
  query: { accountId: string; currency: string; limit: number; before?: number[] },
): Promise<{ entries: LedgerEntry[]; nextBefore?: number[] }> {
  return deps.wallets.listLedger(merchant.id, query.accountId, query.currency, query.limit, query.before);
}
