import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { DynamoMerchantRepository } from '#adapters/dynamo/merchant-repository.ts';
import { DynamoWalletRepository } from '#adapters/dynamo/wallet-repository.ts';
import { setHotAccount } from '#app/hot-accounts.ts';
import { MAX_SUB_BALANCES } from '#domain/sub-balances.ts';
import { newId } from '#shared/ids.ts';
import { type CliSpec, command, connectTarget, runIfMain, UsageError } from './cli.ts';

/** The wallet side of the gateway, as the operator CLI needs it. */
function gateway() {
  connectTarget();
  const db = createDocumentClient();
  const table = process.env.TABLE_NAME ?? '';
  return {
    wallets: new DynamoWalletRepository(db, table),
    merchants: new DynamoMerchantRepository(db, table),
    clock: () => new Date(),
    newId,
  };
}

const accountOptions = {
  merchant: { type: 'string' },
  account: { type: 'string' },
  currency: { type: 'string' },
  'sub-balances': { type: 'string' },
} as const;

/** `npm run wallet`: operator commands on wallets. */
export const walletCli: CliSpec = {
  name: 'wallet',
  summary: 'Operate wallets: mark a high-volume account hot (its credits spread over sub-balances).',
  footer: `Targets the running local stack (npm start) unless TABLE_NAME is set, in which case it uses the AWS environment.
Every change is recorded in the audit trail. docs/scaling.md explains hot accounts.`,
  commands: {
    hot: command({
      summary: "show an account's sub-balances, or set how many it has",
      usage: 'show|set --merchant ID --account ID [--currency CNY] [--sub-balances N]',
      details: `  show               the account's sub-balance count and its balance (the sum of its sub-balances)
  set                give the account --sub-balances N (2-${MAX_SUB_BALANCES}): its credits then land on one of N
                     sub-balances (picked by the payment or refund id), debits take exactly from them, reads sum them.
                     Counts only grow (a smaller N is refused); the same N changes nothing.
Example: npm run wallet -- hot set --merchant mch_1 --account settlement --currency CNY --sub-balances 16`,
      options: accountOptions,
      async run(values, { positionals }) {
        const action = positionals[0];
        if (action !== 'show' && action !== 'set') throw new UsageError('hot needs show or set');
        if (!values.merchant || !values.account) throw new UsageError('--merchant and --account are required');
        const account = { merchantId: values.merchant, accountId: values.account, currency: values.currency ?? 'CNY' };
        const deps = gateway();
        if (action === 'set') {
          if (values['sub-balances'] === undefined) throw new UsageError('set needs --sub-balances N');
          // The use case validates the account and the count (zod): a bad one is refused, nothing changes.
          await setHotAccount(deps, { ...account, subBalances: Number(values['sub-balances']) });
        }
        const wallet = await deps.wallets.get(account.merchantId, account.accountId, account.currency);
        return {
          ...account,
          subBalances: await deps.wallets.subBalanceCount(account, true),
          availableMinor: wallet.availableMinor,
          frozenMinor: wallet.frozenMinor,
        };
      },
    }),
  },
};

runIfMain(import.meta.filename, walletCli);
