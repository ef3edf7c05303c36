import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { closePayment } from '#app/close-payment.ts';
import { createPayment } from '#app/create-payment.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { setRiskConfig } from '#app/risk-admin.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import { AppError } from '#shared/errors.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

/**
 * The payer's daily limit under random interleavings on DynamoDB Local: groups of creations, closes, failures and
 * successes run concurrently; after each run the reserved total equals the sum of the payer's open and paid payments,
 * and never exceeds the limit (beyond late successes, which the contract never drops and which take their amount).
 * `RISK_PROPERTY_RUNS=50` runs the long version.
 */
const RUNS = Number(process.env.RISK_PROPERTY_RUNS ?? 6);
const LIMIT_MINOR = 3_000;
const container = testContainer();
const schema = createPaymentSchema({ allowLoopbackHttp: false });

type Op = { kind: 'create'; amountMinor: number } | { kind: 'close' | 'fail' | 'pay'; target: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      amountMinor: fc.constantFrom(300, 700, 1_000, 1_300),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom('close' as const, 'fail' as const, 'pay' as const),
      target: fc.nat(20),
    }),
  },
);

async function run(merchant: Merchant, groups: Op[][]): Promise<void> {
  const account = uniqueId('acct');
  const created: string[] = [];
  const ignoreRefusals = (error: unknown) => {
    if (error instanceof AppError) return; // RISK_REJECTED, INVALID_STATE, REQUEST_IN_PROGRESS: refusals, no effect
    throw error;
  };
  for (const group of groups) {
    await Promise.all(
      group.map(async (step) => {
        if (step.kind === 'create') {
          const body = parseInput(schema, {
            order_no: uniqueId('P'),
            amount: (step.amountMinor / 100).toFixed(2),
            subject: 'top-up',
            channel: 'SANDBOX',
            account_id: account,
          });
          const { payment } = await createPayment(container, merchant, body).catch((error) => {
            ignoreRefusals(error);
            return { payment: undefined };
          });
          if (payment) created.push(payment.id);
          return;
        }
        const id = created[step.target % Math.max(1, created.length)];
        if (!id) return;
        if (step.kind === 'close') return void (await closePayment(container, merchant, id).catch(ignoreRefusals));
        const payment = await container.payments.get(id);
        if (!payment) return;
        const result = {
          paymentId: id,
          status: step.kind === 'pay' ? ('SUCCEEDED' as const) : ('FAILED' as const),
          amountMinor: payment.amountMinor,
          currency: 'CNY',
          channelTradeNo: `sbx_${id}`,
        };
        await applyPaymentResult(container, result, 'SANDBOX').catch(ignoreRefusals);
      }),
    );
  }
  const payments = await Promise.all(created.map((id) => container.payments.get(id)));
  const holding = payments.filter((p) => p && ['PENDING', 'SUCCEEDED'].includes(p.status));
  const late = payments.filter((p) => p?.late).reduce((sum, p) => sum + (p?.amountMinor ?? 0), 0);
  const snapshot = await container.riskStore.snapshot({
    now: container.clock(),
    merchantId: merchant.id,
    payerAccountId: account,
    amountMinor: 1,
    currency: 'CNY',
  });
  expect(snapshot.payerDayMinor).toBe(holding.reduce((sum, p) => sum + (p?.amountMinor ?? 0), 0));
  expect(snapshot.payerDayMinor).toBeLessThanOrEqual(LIMIT_MINOR + late);
}

describe('payer daily limit under random concurrent interleavings', () => {
  it('reserves exactly the open and paid payments, never over the limit', {
    timeout: 60_000 + RUNS * 60_000,
  }, async () => {
    const { merchant } = await newMerchant(container);
    await setRiskConfig(container, { limits: { CNY: { payer_day: '30.00' } } }, merchant.id);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 5 }),
        (groups) => run(merchant, groups),
      ),
      { numRuns: RUNS },
    );
  });
});
