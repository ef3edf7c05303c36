import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { closePayment } from '#app/close-payment.ts';
import { createPayment } from '#app/create-payment.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import { AppError } from '#shared/errors.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

const container = testContainer();
const schema = createPaymentSchema({ allowLoopbackHttp: false });

type Command = { kind: 'success' | 'fail' | 'close'; payment: number };

const commandArb = (payments: number) =>
  fc.record({
    kind: fc.constantFrom('success', 'fail', 'close'),
    payment: fc.nat({ max: payments - 1 }),
  }) as fc.Arbitrary<Command>;

const scenarioArb = fc.integer({ min: 1, max: 4 }).chain((payments) =>
  fc.record({
    amounts: fc.array(fc.integer({ min: 1, max: 5_000_000 }), { minLength: payments, maxLength: payments }),
    /** Batches run one after another; the commands inside a batch run concurrently (duplicates and reordering). */
    batches: fc.array(fc.array(commandArb(payments), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
  }),
);

async function run(merchant: Merchant, payment: Payment, command: Command): Promise<void> {
  try {
    if (command.kind === 'close') {
      await closePayment(container, merchant, payment.id);
      return;
    }
    await applyPaymentResult(
      container,
      {
        paymentId: payment.id,
        status: command.kind === 'success' ? 'SUCCEEDED' : 'FAILED',
        amountMinor: payment.amountMinor,
        currency: payment.currency,
        channelTradeNo: `sbx_${payment.id.slice(4, 16)}`,
      },
      'SANDBOX',
    );
  } catch (error) {
    // Closing a payment that is no longer PENDING is a legal refusal; anything else is a failure of the property.
    if (!(error instanceof AppError && error.code === 'INVALID_STATE')) throw error;
  }
}

describe('wallet invariants under random callbacks, duplicates, reordering and closes (DynamoDB Local)', () => {
  it('keeps ledger, balance and payment states consistent', async () => {
    const { merchant } = await newMerchant(container);
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ amounts, batches }) => {
        const accountId = uniqueId('acct');
        const payments: Payment[] = [];
        for (const amountMinor of amounts) {
          const body = parseInput(schema, {
            order_no: uniqueId('P'),
            amount: (amountMinor / 100).toFixed(2),
            subject: 'property',
            channel: 'SANDBOX',
            account_id: accountId,
          });
          payments.push((await createPayment(container, merchant, body)).payment);
        }
        for (const batch of batches) {
          await Promise.all(batch.map((command) => run(merchant, payments[command.payment] as Payment, command)));
        }

        const finals = await Promise.all(payments.map((p) => container.payments.get(p.id)));
        const wallet = await container.wallets.get(merchant.id, accountId, 'CNY');
        const { entries } = await container.wallets.listLedger(merchant.id, accountId, 'CNY', 100);
        const commands = batches.flat();

        let expectedAvailable = 0;
        finals.forEach((final, index) => {
          const sent = commands.filter((c) => c.payment === index).map((c) => c.kind);
          expect(final).toBeDefined();
          // A verified success is never dropped, whatever came before it.
          if (sent.includes('success')) {
            expect(final?.status).toBe('SUCCEEDED');
            expectedAvailable += final?.amountMinor ?? 0;
          } else {
            expect(['PENDING', 'FAILED', 'CLOSED']).toContain(final?.status);
          }
          if (!sent.length) expect(final?.status).toBe('PENDING');
        });

        expect(wallet.availableMinor).toBe(expectedAvailable);
        expect(wallet.frozenMinor).toBe(0);
        expect(entries.reduce((sum, entry) => sum + entry.availableDeltaMinor, 0)).toBe(wallet.availableMinor);
        expect(entries.map((entry) => entry.seq).sort((a, b) => a - b)).toEqual(
          Array.from({ length: entries.length }, (_, i) => i + 1),
        );
        const credited = entries.map((entry) => entry.paymentId);
        expect(new Set(credited).size).toBe(credited.length);
        for (const entry of entries) expect(entry.availableAfterMinor).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 30 },
    );
  });

  it('credits every one of 20 concurrent payments into the same wallet exactly once', async () => {
    const { merchant } = await newMerchant(container);
    const accountId = uniqueId('acct');
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
    await Promise.all(
      payments.flatMap((payment) =>
        [1, 2].map(() =>
          applyPaymentResult(
            container,
            {
              paymentId: payment.id,
              status: 'SUCCEEDED',
              amountMinor: payment.amountMinor,
              currency: 'CNY',
              channelTradeNo: 'sbx_hot',
            },
            'SANDBOX',
          ),
        ),
      ),
    );
    const wallet = await container.wallets.get(merchant.id, accountId, 'CNY');
    expect(wallet.availableMinor).toBe(21_000); // 1 + 2 + … + 20 yuan
    const { entries } = await container.wallets.listLedger(merchant.id, accountId, 'CNY', 100);
    expect(entries).toHaveLength(20);
    expect(entries[0]?.seq).toBe(20);
  });
});
