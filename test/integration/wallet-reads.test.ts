import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { consistentBatchGet } from '#adapters/dynamo/items.ts';
import { DynamoWalletRepository } from '#adapters/dynamo/wallet-repository.ts';
import { setHotAccount } from '#app/hot-accounts.ts';
import type { Merchant } from '#domain/merchant.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';
import { payAtChannel, pendingPayment } from '../support/reconcile-fixtures.ts';

const container = testContainer();
/** Pays `yuan` into `accountId` through the sandbox channel and applies its success callback. */
async function recharge(merchant: Merchant, accountId: string, yuan: number) {
  const payment = await pendingPayment(container, merchant, `${yuan}.00`, accountId);
  await payAtChannel(container, payment, new Date().toISOString(), true);
}

/** A wallet repository of its own (a fresh container's view) over a client that records every DynamoDB call. */
function observedRepository() {
  const db = createDocumentClient();
  const calls: string[] = [];
  db.middlewareStack.add(
    (next, context) => (args) => {
      calls.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'recordCalls' },
  );
  return { wallets: new DynamoWalletRepository(db, container.config.tableName), calls, db };
}

describe('wallet balance reads (DynamoDB Local)', () => {
  it('reads an ordinary account in ONE BatchGetItem: its count item (absent) and its wallet', async () => {
    const { merchant } = await newMerchant(container);
    const accountId = uniqueId('acct');
    await recharge(merchant, accountId, 3);
    await recharge(merchant, accountId, 4);
    const { wallets, calls, db } = observedRepository();
    try {
      expect(await wallets.get(merchant.id, accountId, 'CNY')).toMatchObject({ availableMinor: 700, version: 2 });
      expect(calls).toEqual(['BatchGetItem']);
      // An account never paid is zero, from the same one call.
      calls.length = 0;
      expect(await wallets.get(merchant.id, uniqueId('none'), 'CNY')).toMatchObject({ availableMinor: 0 });
      expect(calls).toEqual(['BatchGetItem']);
    } finally {
      db.destroy();
    }
  }, 120_000);

  it('still sums every sub-balance of an account marked hot after this container last read it', async () => {
    const { merchant } = await newMerchant(container);
    const accountId = uniqueId('acct');
    await recharge(merchant, accountId, 5);
    const { wallets, calls, db } = observedRepository();
    try {
      expect(await wallets.get(merchant.id, accountId, 'CNY')).toMatchObject({ availableMinor: 500 });
      // Another container marks it hot; credits then land on the sub-balances their payment ids pick.
      await setHotAccount(container, { merchantId: merchant.id, accountId, currency: 'CNY', subBalances: 4 });
      for (const yuan of [1, 2, 3, 4, 6, 7, 8, 9]) await recharge(merchant, accountId, yuan);
      const subs = await container.wallets.subBalances(
        { merchantId: merchant.id, accountId, currency: 'CNY' },
        [1, 2, 3],
      );
      // Eight credits all on sub-balance 0 has odds 1 / 4^8: the read below must find money beyond what it knew of.
      expect(subs.some((sub) => sub.availableMinor > 0)).toBe(true);

      calls.length = 0;
      const total = await wallets.get(merchant.id, accountId, 'CNY');
      expect(total).toMatchObject({ availableMinor: 4_500, frozenMinor: 0, version: 9 });
      // It knew of one sub-balance: the count and that one, then the three the count added.
      expect(calls).toEqual(['BatchGetItem', 'BatchGetItem']);
      calls.length = 0;
      expect(await wallets.get(merchant.id, accountId, 'CNY')).toMatchObject({ availableMinor: 4_500 });
      expect(calls).toEqual(['BatchGetItem']);
    } finally {
      db.destroy();
    }
  }, 300_000);

  it('asks again for the keys a BatchGetItem leaves unprocessed, and only for those', async () => {
    const keys = ['a', 'b', 'c'].map((pk) => ({ PK: pk, SK: 'X' }));
    const asked: string[][] = [];
    const db = {
      send: async (command: { input: { RequestItems: Record<string, { Keys: { PK: string }[] }> } }) => {
        const wanted = command.input.RequestItems.t?.Keys ?? [];
        asked.push(wanted.map((key) => key.PK));
        const [first, ...rest] = wanted;
        // The first answer carries one item and leaves the rest unprocessed.
        return asked.length === 1
          ? { Responses: { t: [{ ...first, v: 1 }] }, UnprocessedKeys: { t: { Keys: rest } } }
          : { Responses: { t: wanted.map((key) => ({ ...key, v: 2 })) } };
      },
    } as unknown as DynamoDBDocumentClient;
    const found = await consistentBatchGet(db, 't', keys);
    expect(asked).toEqual([
      ['a', 'b', 'c'],
      ['b', 'c'],
    ]);
    expect([...found.keys()]).toEqual(['a\nX', 'b\nX', 'c\nX']);
    expect(found.get('c\nX')).toEqual({ PK: 'c', SK: 'X', v: 2 });
  });
});
