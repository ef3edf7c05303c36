import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { applyRefundResult } from '#app/apply-refund-result.ts';
import { closePayment } from '#app/close-payment.ts';
import { createPayment } from '#app/create-payment.ts';
import { createRefund } from '#app/create-refund.ts';
import { setHotAccount } from '#app/hot-accounts.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { AppError } from '#shared/errors.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

const container = testContainer();
const schema = createPaymentSchema({ allowLoopbackHttp: false });
const ACCOUNTS = 2;

/** One step of a random scenario. Indexes are taken modulo what exists when the step runs. */
type Command =
  | { kind: 'recharge'; account: number; amount: number }
  | { kind: 'purchase'; amount: number }
  | { kind: 'pay-callback'; payment: number; success: boolean }
  | { kind: 'close'; payment: number }
  | { kind: 'balance-pay'; account: number; amount: number }
  | { kind: 'refund'; payment: number; amount: number }
  | { kind: 'balance-refund'; payment: number; account: number; amount: number }
  | { kind: 'refund-callback'; refund: number; success: boolean };

const amount = fc.integer({ min: 1, max: 20_000 });
const index = fc.nat({ max: 50 });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('recharge' as const), account: fc.nat({ max: ACCOUNTS - 1 }), amount }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('pay-callback' as const), payment: index, success: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('purchase' as const), amount }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), payment: index }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('balance-pay' as const), account: fc.nat({ max: ACCOUNTS - 1 }), amount }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('refund' as const), payment: index, amount }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('balance-refund' as const),
      payment: index,
      account: fc.nat({ max: ACCOUNTS - 1 }),
      amount,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('refund-callback' as const), refund: index, success: fc.boolean() }),
  },
);
/** Batches run one after another; the commands inside a batch run concurrently (races, duplicates, reordering). */
const scenarioArb = fc.array(fc.array(commandArb, { minLength: 2, maxLength: 6 }), { minLength: 2, maxLength: 5 });

/** Refusals the contract defines for these operations; anything else fails the property. */
const EXPECTED_REFUSALS = new Set([
  'INVALID_STATE',
  'REFUND_EXCEEDS_PAYMENT',
  'INSUFFICIENT_BALANCE',
  'REFUND_DESTINATION_NOT_ALLOWED',
]);

interface World {
  merchant: Merchant;
  accounts: string[];
  payments: Payment[];
  refunds: Refund[];
  /** Payments that received a verified success callback. */
  successReported: Set<string>;
}

const pick = <T>(items: T[], i: number): T | undefined => (items.length ? items[i % items.length] : undefined);
const yuan = (minor: number) => (minor / 100).toFixed(2);

async function run(world: World, command: Command): Promise<void> {
  const { merchant } = world;
  switch (command.kind) {
    case 'recharge': {
      const body = parseInput(schema, {
        order_no: uniqueId('P'),
        amount: yuan(command.amount),
        subject: 'property',
        channel: 'SANDBOX',
        account_id: world.accounts[command.account],
      });
      world.payments.push((await createPayment(container, merchant, body)).payment);
      return;
    }
    case 'purchase': {
      const body = parseInput(schema, {
        order_no: uniqueId('G'),
        amount: yuan(command.amount),
        subject: 'property',
        channel: 'SANDBOX',
      });
      world.payments.push((await createPayment(container, merchant, body)).payment);
      return;
    }
    case 'balance-pay': {
      const body = parseInput(schema, {
        order_no: uniqueId('B'),
        amount: yuan(command.amount),
        subject: 'property',
        channel: 'BALANCE',
        payer_account_id: world.accounts[command.account],
      });
      world.payments.push((await createPayment(container, merchant, body)).payment);
      return;
    }
    case 'pay-callback': {
      const payment = pick(
        world.payments.filter((p) => p.channel === 'SANDBOX'),
        command.payment,
      );
      if (!payment) return;
      if (command.success) world.successReported.add(payment.id);
      await applyPaymentResult(
        container,
        {
          paymentId: payment.id,
          status: command.success ? 'SUCCEEDED' : 'FAILED',
          amountMinor: payment.amountMinor,
          currency: payment.currency,
          channelTradeNo: 'sbx_property',
        },
        'SANDBOX',
      );
      return;
    }
    case 'close': {
      const payment = pick(world.payments, command.payment);
      if (payment) await closePayment(container, merchant, payment.id);
      return;
    }
    case 'refund': {
      const payment = pick(world.payments, command.payment);
      if (!payment) return;
      const body = { payment_id: payment.id, refund_no: uniqueId('R'), amount: yuan(command.amount) };
      world.refunds.push((await createRefund(container, merchant, body)).refund);
      return;
    }
    case 'balance-refund': {
      const payment = pick(world.payments, command.payment);
      if (!payment) return;
      const body = {
        payment_id: payment.id,
        refund_no: uniqueId('W'),
        amount: yuan(command.amount),
        destination: 'BALANCE' as const,
        account_id: world.accounts[command.account],
      };
      world.refunds.push((await createRefund(container, merchant, body)).refund);
      return;
    }
    case 'refund-callback': {
      const refund = pick(world.refunds, command.refund);
      if (!refund) return;
      const status = command.success ? 'SUCCEEDED' : 'FAILED';
      await applyRefundResult(container, { refundId: refund.id, status }, refund.channel);
    }
  }
}

async function runTolerating(world: World, command: Command): Promise<void> {
  try {
    await run(world, command);
  } catch (error) {
    if (!(error instanceof AppError && EXPECTED_REFUSALS.has(error.code))) throw error;
  }
}

async function assertInvariants(world: World): Promise<void> {
  const { merchant } = world;
  const payments = (await Promise.all(world.payments.map((p) => container.payments.get(p.id)))) as Payment[];
  const refunds = (await Promise.all(world.refunds.map((r) => container.refunds.get(r.id)))) as Refund[];

  for (const payment of payments) {
    const own = refunds.filter((r) => r.paymentId === payment.id);
    const sum = (status: Refund['status']) =>
      own.filter((r) => r.status === status).reduce((total, r) => total + r.amountMinor, 0);
    expect(payment.refundedMinor).toBe(sum('SUCCEEDED'));
    expect(payment.refundingMinor ?? 0).toBe(sum('PROCESSING'));
    expect(payment.refundedMinor + (payment.refundingMinor ?? 0)).toBeLessThanOrEqual(payment.amountMinor);
    const expectedStatus =
      payment.refundedMinor === 0
        ? payment.status
        : payment.refundedMinor === payment.amountMinor
          ? 'REFUNDED'
          : 'PARTIALLY_REFUNDED';
    expect(payment.status).toBe(expectedStatus);
    if (own.length) expect(['SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED']).toContain(payment.status);
    if (world.successReported.has(payment.id)) {
      expect(['SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED']).toContain(payment.status);
    }
  }

  const paid = (p: Payment) => p.status !== 'PENDING' && p.status !== 'FAILED' && p.status !== 'CLOSED';
  for (const accountId of world.accounts) {
    const wallet = await container.wallets.get(merchant.id, accountId, 'CNY');
    const { entries } = await container.wallets.listLedger(merchant.id, accountId, 'CNY', 100);
    expect(wallet.availableMinor).toBeGreaterThanOrEqual(0);
    expect(wallet.frozenMinor).toBeGreaterThanOrEqual(0);
    expect(entries.reduce((total, e) => total + e.availableDeltaMinor, 0)).toBe(wallet.availableMinor);
    expect(entries.reduce((total, e) => total + e.frozenDeltaMinor, 0)).toBe(wallet.frozenMinor);
    expect(entries).toHaveLength(wallet.version);
    // Each sub-ledger (an ordinary wallet has one) is gap-free, and every entry's "after" amounts are its own
    // sub-balance's, never negative.
    for (const sub of new Set(entries.map((e) => e.subBalance ?? 0))) {
      const own = entries.filter((e) => (e.subBalance ?? 0) === sub);
      expect(own.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: own.length }, (_, i) => i + 1));
      for (const e of own) expect(Math.min(e.availableAfterMinor, e.frozenAfterMinor)).toBeGreaterThanOrEqual(0);
    }

    // Money in minus money out, computed from payments and refunds alone, equals what the wallet holds.
    const recharges = payments.filter((p) => p.accountId === accountId && paid(p));
    const spent = payments.filter((p) => p.payerAccountId === accountId && paid(p));
    const sumOf = (list: Refund[]) => list.reduce((total, r) => total + r.amountMinor, 0);
    const refundsOf = (list: Payment[], status: Refund['status']) =>
      sumOf(
        refunds.filter(
          (r) => r.status === status && r.destination !== 'BALANCE' && list.some((p) => p.id === r.paymentId),
        ),
      );
    const toThisWallet = refunds.filter((r) => r.destination === 'BALANCE' && r.accountId === accountId);
    // A refund to a wallet is final at once, and never of a recharge (that would create money).
    for (const r of toThisWallet) expect(r.status).toBe('SUCCEEDED');
    expect(toThisWallet.filter((r) => payments.find((p) => p.id === r.paymentId)?.accountId)).toEqual([]);
    const total = (list: Payment[]) => list.reduce((sum, p) => sum + p.amountMinor, 0);
    expect(wallet.frozenMinor).toBe(refundsOf(recharges, 'PROCESSING'));
    expect(wallet.availableMinor + wallet.frozenMinor).toBe(
      total(recharges) -
        refundsOf(recharges, 'SUCCEEDED') -
        total(spent) +
        refundsOf(spent, 'SUCCEEDED') +
        sumOf(toThisWallet),
    );
  }
}

describe.each([
  { wallets: 'ordinary wallets', subBalances: 1 },
  { wallets: 'hot accounts (4 sub-balances each)', subBalances: 4 },
])(
  'wallet invariants of $wallets under random recharges, purchases, balance payments, refunds to either destination and callbacks (DynamoDB Local)',
  ({ subBalances }) => {
    it('keeps ledger, balances, refund sums and states consistent after every sequence', async () => {
      const { merchant } = await newMerchant(container);
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (batches) => {
          const world: World = {
            merchant,
            accounts: Array.from({ length: ACCOUNTS }, () => uniqueId('acct')),
            payments: [],
            refunds: [],
            successReported: new Set(),
          };
          for (const accountId of world.accounts) {
            if (subBalances > 1) {
              await setHotAccount(container, { merchantId: merchant.id, accountId, currency: 'CNY', subBalances });
            }
          }
          // Every scenario starts with one paid recharge per account, so refunds and balance payments have money to move.
          for (const account of world.accounts.keys()) {
            await run(world, { kind: 'recharge', account, amount: 10_000 });
            await run(world, { kind: 'pay-callback', payment: world.payments.length - 1, success: true });
          }
          for (const batch of batches) await Promise.all(batch.map((command) => runTolerating(world, command)));
          await assertInvariants(world);
        }),
        { numRuns: 25 },
      );
    }, 600_000); // generous: a bound against a hang on a loaded machine, never a speed claim

    it('credits every one of 20 concurrent payments into the same wallet exactly once', async () => {
      const { merchant } = await newMerchant(container);
      const accountId = uniqueId('acct');
      if (subBalances > 1) {
        await setHotAccount(container, { merchantId: merchant.id, accountId, currency: 'CNY', subBalances });
      }
      const payments = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const body = parseInput(schema, {
            order_no: uniqueId('C'),
            amount: `${i + 1}.00`,
            subject: 'hot wallet',
            channel: 'SANDBOX',
            account_id: accountId,
          });
          return (await createPayment(container, merchant, body)).payment;
        }),
      );
      const result = (payment: Payment) => ({
        paymentId: payment.id,
        status: 'SUCCEEDED' as const,
        amountMinor: payment.amountMinor,
        currency: 'CNY',
        channelTradeNo: 'sbx_hot',
      });
      await Promise.all(payments.flatMap((p) => [1, 2].map(() => applyPaymentResult(container, result(p), 'SANDBOX'))));
      const wallet = await container.wallets.get(merchant.id, accountId, 'CNY');
      expect(wallet.availableMinor).toBe(21_000); // 1 + 2 + … + 20 yuan
      const { entries } = await container.wallets.listLedger(merchant.id, accountId, 'CNY', 100);
      expect(entries).toHaveLength(20);
      expect(new Set(entries.map((e) => e.paymentId)).size).toBe(20);
      expect(wallet.version).toBe(20);
    }, 180_000); // 40 racing credits on one wallet retry through optimistic locking: a bound against a hang, not speed
  },
);
