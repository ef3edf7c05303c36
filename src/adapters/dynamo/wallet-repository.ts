import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AccountRef, WalletRepository } from '#app/ports.ts';
import type { AuditRecord } from '#domain/audit.ts';
import { totalOf } from '#domain/sub-balances.ts';
import { emptyWallet, type LedgerEntry, type Wallet } from '#domain/wallet.ts';
import { auditPut } from './audit-log.ts';
import { consistentBatchGet, fromItem, guardedPut, itemKeyOf, transactOrStale } from './items.ts';
import { keys, LEDGER_PREFIX, ledgerSort, walletPartition } from './keys.ts';

/**
 * Wallet balances, hot accounts' sub-balances and their immutable ledgers (writes go through the payment/refund
 * transitions). An ordinary account reads exactly as before hot accounts: one item, one ledger.
 */
export class DynamoWalletRepository implements WalletRepository {
  /** Counts read for movements, by account, until when (ms) they are used without reading again. */
  private readonly counts = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * The balance: the count item and the sub-balances this container last knew of, in ONE consistent `BatchGetItem`
   * (an ordinary account: its count, absent, and its one wallet item); the rest only if the count has grown since.
   */
  async get(merchantId: string, accountId: string, currency: string): Promise<Wallet> {
    const account = { merchantId, accountId, currency };
    const countKey = keys.subBalanceCount(merchantId, accountId, currency);
    const walletKey = (sub: number) => keys.wallet(merchantId, accountId, currency, sub);
    const known = this.counts.get(walletPartition(merchantId, accountId, currency))?.count ?? 1;
    const items = await consistentBatchGet(this.db, this.tableName, [countKey, ...range(known).map(walletKey)]);
    const count = this.remember(account, items.get(itemKeyOf(countKey)));
    const grown = range(count).filter((sub) => sub >= known);
    if (grown.length) {
      for (const [key, item] of await consistentBatchGet(this.db, this.tableName, grown.map(walletKey))) {
        items.set(key, item);
      }
    }
    return totalOf(range(count).map((sub) => walletOf(account, sub, items.get(itemKeyOf(walletKey(sub))))));
  }

  /**
   * A movement's (not `consistent`) count is kept for a minute: every movement reads it, and an older count is still
   * a valid one (counts only grow), so the count item takes one read per container a minute, not one per movement.
   */
  async subBalanceCount(account: AccountRef, consistent: boolean): Promise<number> {
    const key = walletPartition(account.merchantId, account.accountId, account.currency);
    const cached = this.counts.get(key);
    if (!consistent && cached && cached.until > Date.now()) return cached.count;
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.subBalanceCount(account.merchantId, account.accountId, account.currency),
        ConsistentRead: consistent,
      }),
    );
    return this.remember(account, Item);
  }

  /** The count an account's count item holds (absent: 1), kept for movements ({@link subBalanceCount}). */
  private remember(account: AccountRef, item: Record<string, unknown> | undefined): number {
    const count = typeof item?.subBalances === 'number' ? item.subBalances : 1;
    if (this.counts.size >= COUNT_CACHE_ENTRIES) this.counts.clear();
    this.counts.set(walletPartition(account.merchantId, account.accountId, account.currency), {
      count,
      until: Date.now() + COUNT_CACHE_MS,
    });
    return count;
  }

  subBalances(account: AccountRef, which: readonly number[]): Promise<Wallet[]> {
    return Promise.all(which.map((sub) => this.subBalance(account, sub)));
  }

  async setSubBalanceCount(account: AccountRef, count: number, expectedCount: number, audit: AuditRecord) {
    await transactOrStale(this.db, [
      guardedPut(
        this.tableName,
        {
          ...keys.subBalanceCount(account.merchantId, account.accountId, account.currency),
          entity: 'SUB_BALANCES',
          ...account,
          subBalances: count,
          updatedAt: audit.at,
        },
        { attribute: 'subBalances', expected: expectedCount === 1 ? undefined : expectedCount },
      ),
      auditPut(this.tableName, audit),
    ]);
    const key = walletPartition(account.merchantId, account.accountId, account.currency);
    this.counts.set(key, { count, until: Date.now() + COUNT_CACHE_MS });
  }

  async listLedger(merchantId: string, accountId: string, currency: string, limit: number, before?: readonly number[]) {
    const account = { merchantId, accountId, currency };
    const count = await this.subBalanceCount(account, true);
    const pages = await Promise.all(range(count).map((sub) => this.ledgerPage(account, sub, limit + 1, before?.[sub])));
    // Merge the sub-ledgers newest first, each kept in its own (sequence) order.
    const heads = pages.map(() => 0);
    const entries: LedgerEntry[] = [];
    while (entries.length < limit) {
      let next: number | undefined;
      for (const [sub, page] of pages.entries()) {
        const head = page[heads[sub] ?? 0];
        const best = next === undefined ? undefined : pages[next]?.[heads[next] ?? 0];
        if (head && (!best || head.createdAt > best.createdAt)) next = sub;
      }
      if (next === undefined) break;
      entries.push(pages[next]?.[heads[next] ?? 0] as LedgerEntry);
      heads[next] = (heads[next] ?? 0) + 1;
    }
    if (!pages.some((page, sub) => page.length > (heads[sub] ?? 0))) return { entries };
    // Where each sub-ledger continues: below its last listed entry, else where this page started it.
    const nextBefore = pages.map((page, sub) => {
      const taken = heads[sub] ?? 0;
      if (taken > 0) return (page[taken - 1] as LedgerEntry).seq;
      return before?.[sub] ?? (page[0] ? page[0].seq + 1 : 1);
    });
    return { entries, nextBefore };
  }

  private async subBalance(account: AccountRef, sub: number): Promise<Wallet> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.wallet(account.merchantId, account.accountId, account.currency, sub),
        ConsistentRead: true,
      }),
    );
    return walletOf(account, sub, Item);
  }

  /** Up to `limit` entries of one sub-ledger, newest first, below `beforeSeq` when given. */
  private async ledgerPage(account: AccountRef, sub: number, limit: number, beforeSeq?: number) {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :lower AND :upper',
        ExpressionAttributeValues: {
          ':pk': walletPartition(account.merchantId, account.accountId, account.currency, sub),
          ':lower': ledgerSort(0),
          // BETWEEN is inclusive: step one below the cursor so the cursor's own entry is not repeated.
          ':upper': beforeSeq === undefined ? `${LEDGER_PREFIX}~` : ledgerSort(beforeSeq - 1),
        },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return Items.map((item) => fromItem<LedgerEntry>(item));
  }
}

const COUNT_CACHE_MS = 60_000;
const COUNT_CACHE_ENTRIES = 10_000;

/** A sub-balance's item as a wallet; one never written is empty. */
function walletOf(account: AccountRef, sub: number, item: Record<string, unknown> | undefined): Wallet {
  if (item) return fromItem<Wallet>(item);
  const empty = emptyWallet(account.merchantId, account.accountId, account.currency);
  return sub === 0 ? empty : { ...empty, subBalance: sub };
}

/** `[0, 1, …, count - 1]`. */
function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}
