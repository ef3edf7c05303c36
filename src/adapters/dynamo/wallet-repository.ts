import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { WalletRepository } from '#app/ports.ts';
import { emptyWallet, type LedgerEntry, type Wallet } from '#domain/wallet.ts';
import { fromItem } from './items.ts';
import { keys, LEDGER_PREFIX, ledgerSort, walletPartition } from './keys.ts';

/** Wallet balances and their immutable ledger (writes go through the payment/refund transitions). */
export class DynamoWalletRepository implements WalletRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(merchantId: string, accountId: string, currency: string): Promise<Wallet> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.wallet(merchantId, accountId, currency),
        ConsistentRead: true,
      }),
    );
    return Item ? fromItem<Wallet>(Item) : emptyWallet(merchantId, accountId, currency);
  }

  async listLedger(merchantId: string, accountId: string, currency: string, limit: number, beforeSeq?: number) {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :lower AND :upper',
        ExpressionAttributeValues: {
          ':pk': walletPartition(merchantId, accountId, currency),
          ':lower': ledgerSort(0),
          // BETWEEN is inclusive: step one below the cursor so the cursor's own entry is not repeated.
          ':upper': beforeSeq === undefined ? `${LEDGER_PREFIX}~` : ledgerSort(beforeSeq - 1),
        },
        ScanIndexForward: false,
        Limit: limit + 1,
        ConsistentRead: true,
      }),
    );
    const entries = Items.slice(0, limit).map((item) => fromItem<LedgerEntry>(item));
    const last = entries.at(-1);
    return Items.length > limit && last ? { entries, nextBeforeSeq: last.seq } : { entries };
  }
}
