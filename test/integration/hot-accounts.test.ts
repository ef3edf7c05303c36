import { describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/dynamo/audit-log.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { createPayment } from '#app/create-payment.ts';
import { setHotAccount } from '#app/hot-accounts.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { type ChangeSet, StaleStateError } from '#app/ports.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { LedgerEntry } from '#domain/wallet.ts';
import { AppError } from '#shared/errors.ts';
import { runCliCaptured } from '../../scripts/cli.ts';
import { walletCli } from '../../scripts/wallet.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

const container = testContainer();
const schema = createPaymentSchema({ allowLoopbackHttp: false });

/** Pays `amountYuan` into `accountId` through the sandbox channel (created, then its success callback). */
async function recharge(merchant: Merchant, accountId: string, amountYuan: number) {
  const body = parseInput(schema, {
    order_no: uniqueId('H'),
    amount: `${amountYuan}.00`,
    subject: 'hot account',
    channel: 'SANDBOX',
    account_id: accountId,
  });
  return (await createPayment(container, merchant, body)).payment;
}

function succeed(payment: { id: string; amountMinor: number }) {
  return applyPaymentResult(
    container,
    {
      paymentId: payment.id,
      status: 'SUCCEEDED',
      amountMinor: payment.amountMinor,
      currency: 'CNY',
      channelTradeNo: 'sbx_hot',
    },
    'SANDBOX',
  );
}

async function hotAccount(subBalances: number) {
  const { merchant } = await newMerchant(container);
  const accountId = uniqueId('hot');
  await setHotAccount(container, { merchantId: merchant.id, accountId, currency: 'CNY', subBalances });
  return { merchant, accountId };
}

describe('hot accounts: credits spread over sub-balances, reads sum them, debits stay exact (DynamoDB Local)', () => {
  it('applies 48 credits racing on one hot account (each delivered twice) without exhausting optimistic locking', async () => {
    const { merchant, accountId } = await hotAccount(32);
    const payments = await Promise.all(Array.from({ length: 48 }, (_, i) => recharge(merchant, accountId, i + 1)));
    const results = await Promise.allSettled(payments.flatMap((p) => [succeed(p), succeed(p)]));
    // Every delivery answers (none runs out of retries with 409 REQUEST_IN_PROGRESS), and each payment credits once.
    expect(results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []))).toEqual([]);
    const applied = results.filter((r) => r.status === 'fulfilled' && r.value.applied);
    expect(applied).toHaveLength(48);

    const wallet = await container.wallets.get(merchant.id, accountId, 'CNY');
    expect(wallet).toMatchObject({ availableMinor: 117_600, frozenMinor: 0, version: 48 }); // 1 + … + 48 yuan
    const all: LedgerEntry[] = [];
    let before: number[] | undefined;
    do {
      const page = await container.wallets.listLedger(merchant.id, accountId, 'CNY', 7, before);
      all.push(...page.entries);
      before = page.nextBefore;
      if (before) expect(before).toHaveLength(32);
    } while (before);
    // Pages merged over the sub-ledgers list every entry once, newest first.
    expect(all).toHaveLength(48);
    expect(new Set(all.map((e) => e.paymentId))).toEqual(new Set(payments.map((p) => p.id)));
    expect(all.map((e) => e.createdAt)).toEqual(
      all
        .map((e) => e.createdAt)
        .sort()
        .reverse(),
    );
    expect(all.reduce((sum, e) => sum + e.availableDeltaMinor, 0)).toBe(wallet.availableMinor);
    expect(new Set(all.map((e) => e.subBalance ?? 0)).size).toBeGreaterThan(4);
  }, 300_000); // a bound against a hang on a loaded machine, never a speed claim

  it('takes a payment no one sub-balance covers from several, in ONE transaction, and refuses an overdraft', async () => {
    const { merchant, accountId } = await hotAccount(4);
    // Ten recharges land on the sub-balances their ids pick: all on one has odds 4 / 4^10.
    const paid = await Promise.all(Array.from({ length: 10 }, () => recharge(merchant, accountId, 10)));
    for (const payment of paid) await succeed(payment);
    const commits: ChangeSet[] = [];
    const spy = {
      ...container,
      store: {
        commit: (changes: ChangeSet) => {
          commits.push(changes);
          return container.store.commit(changes);
        },
      },
    };
    const pay = (yuan: string) =>
      createPayment(
        spy,
        merchant,
        parseInput(schema, {
          order_no: uniqueId('D'),
          amount: yuan,
          subject: 'debit',
          channel: 'BALANCE',
          payer_account_id: accountId,
        }),
      );
    // All of it: one transaction over every sub-balance that holds money.
    expect((await pay('100.00')).payment.status).toBe('SUCCEEDED');
    expect(commits).toHaveLength(1);
    expect(commits[0]?.walletChanges?.length).toBeGreaterThan(1);

    const overdraft = await pay('0.01').catch((error: unknown) => error);
    expect(overdraft).toBeInstanceOf(AppError);
    expect(overdraft).toMatchObject({ code: 'INSUFFICIENT_BALANCE', details: { available: '0.00' } });
    expect(commits).toHaveLength(1);
    const emptied = await container.wallets.get(merchant.id, accountId, 'CNY');
    expect(emptied).toMatchObject({ availableMinor: 0, frozenMinor: 0 });
    const { entries } = await container.wallets.listLedger(merchant.id, accountId, 'CNY', 100);
    expect(entries).toHaveLength(emptied.version);
    expect(entries.reduce((sum, e) => sum + e.availableDeltaMinor, 0)).toBe(0);
  }, 300_000);

  it('keeps an account ordinary until marked, and its earlier entries readable after (count 1 = the old layout)', async () => {
    const { merchant } = await newMerchant(container);
    const accountId = uniqueId('acct');
    await succeed(await recharge(merchant, accountId, 5));
    await setHotAccount(container, { merchantId: merchant.id, accountId, currency: 'CNY', subBalances: 8 });
    await Promise.all([1, 2, 3].map(async (yuan) => succeed(await recharge(merchant, accountId, yuan))));
    expect(await container.wallets.get(merchant.id, accountId, 'CNY')).toMatchObject({ availableMinor: 1_100 });
    const { entries } = await container.wallets.listLedger(merchant.id, accountId, 'CNY', 10);
    expect(entries.map((e) => e.amountMinor).sort((a, b) => a - b)).toEqual([100, 200, 300, 500]);
  }, 300_000);

  it('is set by the operator CLI, audited; counts only grow and bad input changes nothing', async () => {
    const { merchant } = await newMerchant(container);
    const accountId = uniqueId('acct');
    const cli = (...args: string[]) =>
      runCliCaptured(walletCli, ['hot', ...args, '--merchant', merchant.id, '--account', accountId]);
    expect(JSON.parse((await cli('show')).stdout)).toMatchObject({ sub_balances: 1, available_minor: 0 });
    const set = await cli('set', '--sub-balances', '8');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ account_id: accountId, currency: 'CNY', sub_balances: 8 });
    expect(await cli('set', '--sub-balances', '4')).toMatchObject({ code: 1, stderr: /only grow/ });
    expect(await cli('set', '--sub-balances', '41')).toMatchObject({ code: 1 });
    expect(await cli('set', '--sub-balances', 'x')).toMatchObject({ code: 1 });
    expect(await cli('set')).toMatchObject({ code: 2 });
    expect(
      await runCliCaptured(walletCli, [
        'hot',
        'set',
        '--merchant',
        'mch_nobody',
        '--account',
        'a',
        '--sub-balances',
        '2',
      ]),
    ).toMatchObject({ code: 1, stderr: /not found/ });
    expect(await container.wallets.subBalanceCount({ merchantId: merchant.id, accountId, currency: 'CNY' }, true)).toBe(
      8,
    );

    const records = await new DynamoAuditLog(container.db, container.config.tableName).list({
      since: new Date(Date.now() - 600_000),
      until: new Date(Date.now() + 60_000),
      merchantId: merchant.id,
    });
    const changed = records.filter((r) => r.action === 'wallet.sub_balances_changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      actor: { type: 'operator' },
      resource: { type: 'account', id: `${accountId}/CNY` },
      before: { sub_balances: 1 },
      after: { sub_balances: 8 },
    });
  }, 300_000);

  it('refuses a concurrent change of the count made since it was read (conditional write)', async () => {
    const { merchant } = await newMerchant(container);
    const account = { merchantId: merchant.id, accountId: uniqueId('acct'), currency: 'CNY' };
    const audit = (id: string) => ({
      id,
      at: new Date().toISOString(),
      actor: { type: 'system' as const, id: 't' },
      action: 'wallet.sub_balances_changed' as const,
      resource: { type: 'account', id },
    });
    await container.wallets.setSubBalanceCount(account, 4, 1, audit(uniqueId('aud')));
    await expect(container.wallets.setSubBalanceCount(account, 8, 1, audit(uniqueId('aud')))).rejects.toBeInstanceOf(
      StaleStateError,
    );
    expect(await container.wallets.subBalanceCount(account, true)).toBe(4);
  }, 120_000);
});
