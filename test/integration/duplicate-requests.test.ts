import { describe, expect, it } from 'vitest';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { closePayment } from '#app/close-payment.ts';
import { createPayment } from '#app/create-payment.ts';
import { createRefund } from '#app/create-refund.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import { AppError } from '#shared/errors.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

/**
 * N identical requests at once, many times over, on DynamoDB Local: every answer is the original (created, or
 * replayed) or the retryable 409 REQUEST_IN_PROGRESS — never a business refusal caused by the winner's own effect.
 * `DUPLICATE_ITERATIONS=200 npx vitest run test/integration/duplicate-requests.test.ts` runs the long version.
 */
const ITERATIONS = Number(process.env.DUPLICATE_ITERATIONS ?? 25);
const COPIES = 5;
/** Generous: a bound against a hang, never a speed claim (about 0.1 s an iteration on a quiet machine). */
const TIMEOUT_MS = 60_000 + ITERATIONS * 2_000;
const container = testContainer();
const schema = createPaymentSchema({ allowLoopbackHttp: false });

interface Answer<T> {
  resource: T & { id: string };
  replayed: boolean;
}

/** Fires `COPIES` identical requests together and checks the answers are one resource, created exactly once. */
async function duplicates<T>(request: () => Promise<Answer<T>>): Promise<Array<Answer<T>>> {
  const settled = await Promise.allSettled(Array.from({ length: COPIES }, request));
  const answers: Array<Answer<T>> = [];
  for (const outcome of settled) {
    if (outcome.status === 'fulfilled') {
      answers.push(outcome.value);
      continue;
    }
    const error = outcome.reason;
    // The only refusal a duplicate may get is the retryable one; anything else fails with its own code.
    expect(error instanceof AppError ? error.code : String(error)).toBe('REQUEST_IN_PROGRESS');
  }
  expect(answers.length).toBeGreaterThan(0);
  expect(new Set(answers.map((a) => a.resource.id)).size).toBe(1);
  expect(answers.filter((a) => !a.replayed).length).toBeLessThanOrEqual(1);
  return answers;
}

async function paidRecharge(merchant: Merchant, accountId: string, amount: string): Promise<Payment> {
  const body = parseInput(schema, {
    order_no: uniqueId('R'),
    amount,
    subject: 'top-up',
    channel: 'SANDBOX',
    account_id: accountId,
  });
  const { payment } = await createPayment(container, merchant, body);
  const result = { paymentId: payment.id, status: 'SUCCEEDED' as const, amountMinor: payment.amountMinor };
  return (
    await applyPaymentResult(container, { ...result, currency: 'CNY', channelTradeNo: `sbx_${payment.id}` }, 'SANDBOX')
  ).payment;
}

async function balanceOf(merchant: Merchant, accountId: string) {
  return container.wallets.get(merchant.id, accountId, 'CNY');
}

const keyed = [false, true] as const;

describe('identical concurrent requests are answered as duplicates (DynamoDB Local)', () => {
  for (const withKey of keyed) {
    const by = withKey ? 'Idempotency-Key' : 'order_no';

    it(
      `BALANCE payments: one debit, every duplicate replays SUCCEEDED — never 402 (by ${by})`,
      async () => {
        const { merchant } = await newMerchant(container);
        for (let i = 0; i < ITERATIONS; i++) {
          const payer = uniqueId('payer');
          await paidRecharge(merchant, payer, '10.00');
          const body = parseInput(schema, {
            order_no: uniqueId('B'),
            amount: '10.00',
            subject: 'spend all',
            channel: 'BALANCE',
            payer_account_id: payer,
          });
          const key = withKey ? uniqueId('idem') : undefined;
          const answers = await duplicates(async () => {
            const { payment, replayed } = await createPayment(container, merchant, body, key);
            return { resource: payment, replayed };
          });
          for (const { resource } of answers) expect(resource.status).toBe('SUCCEEDED');
          expect((await balanceOf(merchant, payer)).availableMinor).toBe(0);
        }
      },
      TIMEOUT_MS,
    );

    it(
      `SANDBOX payments: one payment per order (by ${by})`,
      async () => {
        const { merchant } = await newMerchant(container);
        for (let i = 0; i < ITERATIONS; i++) {
          const body = parseInput(schema, {
            order_no: uniqueId('S'),
            amount: '3.00',
            subject: 'top-up',
            channel: 'SANDBOX',
            account_id: uniqueId('acct'),
          });
          const key = withKey ? uniqueId('idem') : undefined;
          const answers = await duplicates(async () => {
            const { payment, replayed } = await createPayment(container, merchant, body, key);
            return { resource: payment, replayed };
          });
          for (const { resource } of answers) expect(resource.status).toBe('PENDING');
        }
      },
      TIMEOUT_MS,
    );

    it(
      `full refunds of a recharge: one freeze, no REFUND_EXCEEDS_PAYMENT or 409 INSUFFICIENT_BALANCE (by ${by})`,
      async () => {
        const { merchant } = await newMerchant(container);
        for (let i = 0; i < ITERATIONS; i++) {
          const accountId = uniqueId('acct');
          const payment = await paidRecharge(merchant, accountId, '8.00');
          const body = { payment_id: payment.id, refund_no: uniqueId('RF'), amount: '8.00' };
          const key = withKey ? uniqueId('idem') : undefined;
          const answers = await duplicates(async () => {
            const { refund, replayed } = await createRefund(container, merchant, body, key);
            return { resource: refund, replayed };
          });
          for (const { resource } of answers) expect(resource.amountMinor).toBe(800);
          const wallet = await balanceOf(merchant, accountId);
          expect([wallet.availableMinor + wallet.frozenMinor, wallet.availableMinor]).toEqual([800, 0]);
        }
      },
      TIMEOUT_MS,
    );

    it(
      `full refunds of a BALANCE payment: the payer is credited once and every answer shows SUCCEEDED (by ${by})`,
      async () => {
        const { merchant } = await newMerchant(container);
        for (let i = 0; i < ITERATIONS; i++) {
          const payer = uniqueId('payer');
          await paidRecharge(merchant, payer, '6.00');
          const paid = parseInput(schema, {
            order_no: uniqueId('B'),
            amount: '6.00',
            subject: 'spend',
            channel: 'BALANCE',
            payer_account_id: payer,
          });
          const { payment } = await createPayment(container, merchant, paid);
          const body = { payment_id: payment.id, refund_no: uniqueId('RF'), amount: '6.00' };
          const key = withKey ? uniqueId('idem') : undefined;
          const answers = await duplicates(async () => {
            const { refund, replayed } = await createRefund(container, merchant, body, key);
            return { resource: refund, replayed };
          });
          for (const { resource } of answers) expect(resource.status).toBe('SUCCEEDED');
          expect((await balanceOf(merchant, payer)).availableMinor).toBe(600);
          expect((await container.payments.get(payment.id))?.status).toBe('REFUNDED');
        }
      },
      TIMEOUT_MS,
    );
  }

  it(
    'closes with one Idempotency-Key: one close, every duplicate replays CLOSED — never INVALID_STATE',
    async () => {
      const { merchant } = await newMerchant(container);
      for (let i = 0; i < ITERATIONS; i++) {
        const body = parseInput(schema, {
          order_no: uniqueId('C'),
          amount: '2.00',
          subject: 'to close',
          channel: 'SANDBOX',
        });
        const { payment } = await createPayment(container, merchant, body);
        const key = uniqueId('idem');
        const answers = await duplicates(async () => {
          const closed = await closePayment(container, merchant, payment.id, key);
          return { resource: closed.payment, replayed: closed.replayed };
        });
        for (const { resource } of answers) expect(resource.status).toBe('CLOSED');
      }
    },
    TIMEOUT_MS,
  );
});
