import type { WalletRepository } from '#app/ports.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { LedgerEntry, Wallet } from '#domain/wallet.ts';

/** A merchant's wallet; wallets are keyed by merchant, so one merchant can never read another's. */
export function getBalance(
  deps: { wallets: WalletRepository },
  merchant: Merchant,
  accountId: string,
  currency: string,
): Promise<Wallet> {
  return deps.wallets.get(merchant.id, accountId, currency);
}

/** A page of a wallet's ledger, newest first, and the cursor of the next page. */
export function listLedger(
  deps: { wallets: WalletRepository },
  merchant: Merchant,
  query: { accountId: string; currency: string; limit: number; beforeSeq?: number },
): Promise<{ entries: LedgerEntry[]; nextBeforeSeq?: number }> {
  return deps.wallets.listLedger(merchant.id, query.accountId, query.currency, query.limit, query.beforeSeq);
}
