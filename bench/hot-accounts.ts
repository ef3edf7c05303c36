// Section 13 (BENCH_RESULT `hot_accounts`): concurrent credits to one ordinary wallet vs one hot account.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { DynamoTransactionStore } from '#adapters/dynamo/transaction-store.ts';
import { DynamoWalletRepository } from '#adapters/dynamo/wallet-repository.ts';
import { auditRecord } from '#app/audit.ts';
import { type AccountRef, StaleStateError } from '#app/ports.ts';
import { untilNotStale } from '#app/stale-retry.ts';
import { moveWallet } from '#app/wallet-movements.ts';
import { movements } from '#domain/wallet.ts';
import { AppError } from '#shared/errors.ts';
import { newId } from '#shared/ids.ts';
import { heading, num, table } from './report.ts';

const CREDITS = 600;
const CLIENTS = 32;
const HOT_SUB_BALANCES = 16;
const TABLE = 'pay-gateway-bench-hot';

/** One account's run: credits/s, optimistic-lock retries per credit, credits that ran out of retries. */
export interface HotAccountFigures {
  account: string;
  sub_balances: number;
  credits: number;
  clients: number;
  credits_per_s: number;
  retries_per_credit: number;
  exhausted: number;
  balance_ok: boolean;
}

/**
 * On a DynamoDB Local of its own: `CLIENTS` concurrent writers credit 600 payments (1.00 each) into one ordinary
 * wallet, then into one hot account with 16 sub-balances — the wallet step of a payment callback (read, decide, ONE
 * conditional transaction, re-read and retry on a lost race, `409` after the retries run out). Checks the balance
 * equals the credits applied.
 */
export async function measureHotAccounts(): Promise<HotAccountFigures[]> {
  const { startDynamoDbLocal } = await import('../local/dynamodb-local.ts');
  const { createGatewayTable } = await import('../local/tables.ts');
  const dynamo = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await createGatewayTable(client, TABLE);
    const db = createDocumentClient(client);
    const figures = [await run(db, 1), await run(db, HOT_SUB_BALANCES)];
    printHotAccountSection(figures);
    return figures;
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

async function run(db: ReturnType<typeof createDocumentClient>, subBalances: number): Promise<HotAccountFigures> {
  const wallets = new DynamoWalletRepository(db, TABLE);
  const store = new DynamoTransactionStore(db, TABLE, () => new Date());
  const account: AccountRef = {
    merchantId: 'mch_bench_hot',
    accountId: `bench-${Date.now()}-${subBalances}`,
    currency: 'CNY',
  };
  const deps = { wallets, newId, clock: () => new Date() };
  if (subBalances > 1) {
    const audit = auditRecord(deps, {
      action: 'wallet.sub_balances_changed',
      resource: { type: 'account', id: account.accountId },
      after: { sub_balances: subBalances },
    });
    await wallets.setSubBalanceCount(account, subBalances, 1, audit);
  }
  let stale = 0;
  let exhausted = 0;
  let next = 0;
  const credit = async () => {
    const paymentId = newId('pay');
    await untilNotStale(async () => {
      const changes = await moveWallet(
        deps,
        account,
        movements.credit(100, paymentId),
        paymentId,
        new Date().toISOString(),
      );
      try {
        await store.commit({ walletChanges: changes });
      } catch (error) {
        if (error instanceof StaleStateError) stale++;
        throw error;
      }
    });
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next++ < CREDITS) {
        try {
          await credit();
        } catch (error) {
          if (!(error instanceof AppError && error.code === 'REQUEST_IN_PROGRESS')) throw error;
          exhausted++;
        }
      }
    }),
  );
  const elapsed = performance.now() - started;
  const wallet = await wallets.get(account.merchantId, account.accountId, account.currency);
  return {
    account: subBalances === 1 ? 'ordinary' : 'hot',
    sub_balances: subBalances,
    credits: CREDITS,
    clients: CLIENTS,
    credits_per_s: ((CREDITS - exhausted) / elapsed) * 1000,
    retries_per_credit: stale / CREDITS,
    exhausted,
    balance_ok: wallet.availableMinor === (CREDITS - exhausted) * 100 && wallet.version === CREDITS - exhausted,
  };
}

function printHotAccountSection(figures: HotAccountFigures[]): void {
  console.log(heading(`13. Hot accounts: ${CLIENTS} writers credit ${CREDITS} payments into ONE account`));
  console.log(
    table(
      ['account', '>sub-balances', '>credits/s', '>lost races per credit', '>409 after 15 tries', 'balance = credits'],
      figures.map((f) => [
        f.account,
        num(f.sub_balances),
        num(f.credits_per_s, 1),
        num(f.retries_per_credit, 2),
        num(f.exhausted),
        f.balance_ok ? 'yes' : 'NO',
      ]),
    ),
  );
  console.log('  (DynamoDB Local on this machine; a figure to compare the two rows, not an AWS throughput)');
}
