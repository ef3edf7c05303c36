import { describe, expect, it } from 'vitest';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { createPayment } from '#app/create-payment.ts';
import { createRefund } from '#app/create-refund.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import type { PaymentChannel } from '#app/ports.ts';
import { createRefundSchema } from '#app/refund-schemas.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { AppError } from '#shared/errors.ts';
import { findEventId } from '../support/events.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

const base = testContainer();
const sandbox = base.channels.get('SANDBOX') as PaymentChannel;
let channelRefunds = 0;
/** The sandbox channel, counting the refunds submitted to it (a BALANCE refund must never reach it). */
const countingSandbox: PaymentChannel = Object.assign(Object.create(sandbox), {
  refund: (refund: Refund, payment: Payment) => {
    channelRefunds++;
    return sandbox.refund(refund, payment);
  },
});
const container = testContainer({ channels: new Map([...base.channels, ['SANDBOX', countingSandbox]]) });
const schema = createPaymentSchema({ allowLoopbackHttp: false });

/** A paid sandbox payment; a purchase (no wallet credited) unless `accountId` makes it a recharge. */
async function paidPayment(merchant: Merchant, amount: string, accountId?: string): Promise<Payment> {
  const body = parseInput(schema, {
    order_no: uniqueId('O'),
    amount,
    subject: 'goods',
    channel: 'SANDBOX',
    ...(accountId ? { account_id: accountId } : {}),
  });
  const { payment } = await createPayment(container, merchant, body);
  const result = { paymentId: payment.id, status: 'SUCCEEDED' as const, amountMinor: payment.amountMinor };
  return (
    await applyPaymentResult(container, { ...result, currency: 'CNY', channelTradeNo: `sbx_${payment.id}` }, 'SANDBOX')
  ).payment;
}

const toBalance = (payment: Payment, amount: string, accountId: string, refundNo = uniqueId('R')) =>
  parseInput(createRefundSchema, {
    payment_id: payment.id,
    refund_no: refundNo,
    amount,
    destination: 'BALANCE',
    account_id: accountId,
  });

const codeOf = (error: unknown) => (error instanceof AppError ? error.code : String(error));

describe('refunds to the payer’s wallet (destination BALANCE, DynamoDB Local)', () => {
  it('credits the wallet at once with a REFUND ledger entry, settles SUCCEEDED and never calls the channel', async () => {
    const { merchant } = await newMerchant(container);
    const payment = await paidPayment(merchant, '100.00');
    const payer = uniqueId('payer');
    const before = channelRefunds;

    const { refund, replayed } = await createRefund(container, merchant, toBalance(payment, '30.00', payer));

    expect(replayed).toBe(false);
    expect(refund).toMatchObject({ status: 'SUCCEEDED', destination: 'BALANCE', accountId: payer, amountMinor: 3000 });
    expect(refund.completedAt).toBeDefined();
    expect(channelRefunds).toBe(before);
    expect(await container.refunds.get(refund.id)).toMatchObject({ status: 'SUCCEEDED', destination: 'BALANCE' });
    expect(await container.payments.get(payment.id)).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      refundedMinor: 3000,
      refundingMinor: 0,
    });
    const wallet = await container.wallets.get(merchant.id, payer, 'CNY');
    expect(wallet).toMatchObject({ availableMinor: 3000, frozenMinor: 0, version: 1 });
    const { entries } = await container.wallets.listLedger(merchant.id, payer, 'CNY', 10);
    expect(entries).toEqual([
      expect.objectContaining({ type: 'REFUND', amountMinor: 3000, paymentId: payment.id, refundId: refund.id }),
    ]);
    expect(await findEventId(container, payment.id, 'refund.succeeded')).toMatch(/^evt_/);
  });

  it('refuses a recharge with REFUND_DESTINATION_NOT_ALLOWED and changes nothing', async () => {
    const { merchant } = await newMerchant(container);
    const accountId = uniqueId('acct');
    const recharge = await paidPayment(merchant, '50.00', accountId);
    const walletBefore = await container.wallets.get(merchant.id, accountId, 'CNY');
    const refundNo = uniqueId('R');

    for (const target of [accountId, uniqueId('other')]) {
      const error = await createRefund(container, merchant, toBalance(recharge, '10.00', target, refundNo)).catch(
        (e: unknown) => e,
      );
      expect(codeOf(error)).toBe('REFUND_DESTINATION_NOT_ALLOWED');
      expect((error as AppError).httpStatus).toBe(409);
    }

    expect(await container.payments.get(recharge.id)).toEqual(recharge);
    expect(await container.wallets.get(merchant.id, accountId, 'CNY')).toEqual(walletBefore);
    expect(await container.refunds.findByRefundNo(merchant.id, refundNo)).toBeUndefined();
    // The same refund_no is still free for the refund the contract allows.
    const { refund } = await createRefund(container, merchant, {
      payment_id: recharge.id,
      refund_no: refundNo,
      amount: '10.00',
    });
    expect(refund).toMatchObject({ status: 'PROCESSING', destination: 'ORIGINAL' });
  });

  it('replays a repeated request, refuses changed parameters, and credits once under concurrent duplicates', async () => {
    const { merchant } = await newMerchant(container);
    const payment = await paidPayment(merchant, '20.00');
    const payer = uniqueId('payer');
    const body = toBalance(payment, '5.00', payer);

    const answers = await Promise.allSettled(
      Array.from({ length: 6 }, () => createRefund(container, merchant, body, 'key-balance-1')),
    );
    const refunds = answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    for (const a of answers) if (a.status === 'rejected') expect(codeOf(a.reason)).toBe('REQUEST_IN_PROGRESS');
    expect(new Set(refunds.map((r) => r.refund.id)).size).toBe(1);
    expect(refunds.filter((r) => !r.replayed).length).toBeLessThanOrEqual(1);
    for (const r of refunds) expect(r.refund.status).toBe('SUCCEEDED');

    const again = await createRefund(container, merchant, body);
    expect(again).toMatchObject({ replayed: true, refund: { id: refunds[0]?.refund.id, status: 'SUCCEEDED' } });
    const elsewhere = { ...body, account_id: uniqueId('other') };
    expect(codeOf(await createRefund(container, merchant, elsewhere).catch((e: unknown) => e))).toBe(
      'IDEMPOTENCY_CONFLICT',
    );
    const original = { ...body, destination: undefined, account_id: undefined };
    expect(codeOf(await createRefund(container, merchant, original).catch((e: unknown) => e))).toBe(
      'IDEMPOTENCY_CONFLICT',
    );
    expect((await container.wallets.get(merchant.id, payer, 'CNY')).availableMinor).toBe(500);
    expect((await container.payments.get(payment.id))?.refundedMinor).toBe(500);
  });

  it('never over-refunds when ORIGINAL and BALANCE refunds race for the same payment', async () => {
    const { merchant } = await newMerchant(container);
    for (let round = 0; round < 3; round++) {
      const payment = await paidPayment(merchant, '10.00');
      const payer = uniqueId('payer');
      // 8 refunds of 3.00 (24.00 asked) for 10.00 paid: at most 3 can be accepted.
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          i % 2 === 0
            ? createRefund(container, merchant, toBalance(payment, '3.00', payer))
            : createRefund(container, merchant, { payment_id: payment.id, refund_no: uniqueId('R'), amount: '3.00' }),
        ),
      );
      const accepted = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.refund] : []));
      for (const o of outcomes) {
        if (o.status === 'rejected') {
          expect(['REFUND_EXCEEDS_PAYMENT', 'REQUEST_IN_PROGRESS']).toContain(codeOf(o.reason));
        }
      }
      const stored = (await container.payments.get(payment.id)) as Payment;
      const toWallet = accepted.filter((r) => r.destination === 'BALANCE');
      const toChannel = accepted.filter((r) => r.destination === 'ORIGINAL');
      expect(accepted.length).toBeLessThanOrEqual(3);
      expect(stored.refundedMinor + (stored.refundingMinor ?? 0)).toBe(accepted.length * 300);
      expect(stored.refundedMinor).toBe(toWallet.length * 300);
      expect(stored.refundingMinor ?? 0).toBe(toChannel.length * 300);
      expect((await container.wallets.get(merchant.id, payer, 'CNY')).availableMinor).toBe(toWallet.length * 300);
    }
  }, 300_000); // generous: a bound against a hang on a loaded machine, never a speed claim
});
