import { describe, expect, it } from 'vitest';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { createPayment } from '#app/create-payment.ts';
import { createRefund } from '#app/create-refund.ts';
import { expireBucket } from '#app/expire-payments.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import type { PaymentChannel } from '#app/ports.ts';
import { parseInput } from '#app/validation.ts';
import { expiryBucket } from '#domain/expiry.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { FIRST_SYNC_AFTER_MS, firstSyncAt, UNSETTLED_HORIZON_MS } from '#domain/status-sync.ts';
import { UnavailableError } from '#shared/errors.ts';
import { paymentFixture } from '../support/domain-fixtures.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';
import { minuteTimerDeps, uniqueFarMinute } from '../support/minute-timer.ts';

const container = testContainer();

/**
 * The sandbox channel with refunds that can be down, and that remembers which refunds it received (by refund id,
 * as the real channels do): a query of one it never received answers nothing.
 */
function refundChannel(sandbox: PaymentChannel) {
  const received = new Set<string>();
  const state = { down: true, submissions: 0 };
  const outage = () => new UnavailableError('CHANNEL_UNAVAILABLE', 'channel down');
  const channel: PaymentChannel = Object.assign(Object.create(sandbox) as PaymentChannel, {
    async refund(refund: Refund) {
      state.submissions++;
      if (state.down) throw outage();
      received.add(refund.id);
      return { status: 'SUCCEEDED' as const, channelRefundNo: `sr_${refund.id}` };
    },
    async queryRefund(refund: Refund) {
      if (state.down) throw outage();
      return received.has(refund.id) ? { refundId: refund.id, status: 'SUCCEEDED' as const } : undefined;
    },
    async queryPayment() {
      if (state.down) throw outage();
      return undefined;
    },
    async closePayment() {
      if (state.down) throw outage();
      return 'closed' as const;
    },
  });
  return { channel, state, received };
}

async function paidRecharge(merchant: Merchant, accountId: string): Promise<Payment> {
  const body = parseInput(createPaymentSchema({ allowLoopbackHttp: false }), {
    order_no: uniqueId('R'),
    amount: '100.00',
    currency: 'CNY',
    subject: 'top-up',
    channel: 'SANDBOX',
    account_id: accountId,
  });
  const { payment } = await createPayment(container, merchant, body);
  const result = { paymentId: payment.id, status: 'SUCCEEDED' as const, amountMinor: payment.amountMinor };
  const applied = await applyPaymentResult(
    container,
    { ...result, currency: 'CNY', channelTradeNo: `sbx_${payment.id}` },
    'SANDBOX',
  );
  return applied.payment;
}

/** Available + frozen equal the ledger's sums, entry by entry. */
async function assertWalletMatchesLedger(merchant: Merchant, accountId: string) {
  const wallet = await container.wallets.get(merchant.id, accountId, 'CNY');
  const { entries } = await container.wallets.listLedger(merchant.id, accountId, 'CNY', 100);
  const sum = (pick: (e: (typeof entries)[number]) => number) => entries.reduce((total, e) => total + pick(e), 0);
  expect(wallet.availableMinor).toBe(sum((e) => e.availableDeltaMinor));
  expect(wallet.frozenMinor).toBe(sum((e) => e.frozenDeltaMinor));
  return wallet;
}

describe('status sync: the minute timer settles what a channel left open (DynamoDB Local, injected clock)', () => {
  it('asks about a refund whose submission failed, postpones it while the channel is down, resubmits it once it is back', async () => {
    const { merchant } = await newMerchant(container);
    const accountId = uniqueId('user');
    const payment = await paidRecharge(merchant, accountId);
    const { channel, state, received } = refundChannel(container.channels.get('SANDBOX') as PaymentChannel);
    const { deps, armed, clock } = minuteTimerDeps(container, channel);

    const { refund } = await createRefund(deps, merchant, { payment_id: payment.id, refund_no: 'R1', amount: '30.00' });
    expect(refund.status).toBe('PROCESSING'); // the submission failed: the amount stays frozen
    expect(await assertWalletMatchesLedger(merchant, accountId)).toMatchObject({
      availableMinor: 7_000,
      frozenMinor: 3_000,
    });

    const firstMinute = expiryBucket(firstSyncAt(refund.createdAt));
    clock.now = new Date(Date.parse(refund.createdAt) + FIRST_SYNC_AFTER_MS - 1);
    expect(await expireBucket(deps, firstMinute)).toMatchObject({ synced: 0, postponed: 0 }); // not due yet

    clock.now = new Date(Date.parse(refund.createdAt) + FIRST_SYNC_AFTER_MS + 1);
    expect(await expireBucket(deps, firstMinute)).toMatchObject({ done: true, synced: 0, postponed: 1 });
    const postponed = await container.refunds.get(refund.id);
    expect(postponed).toMatchObject({ status: 'PROCESSING', syncAttempts: 1 });
    const nextMinute = expiryBucket(String(postponed?.syncAt));
    expect(nextMinute > firstMinute).toBe(true);
    expect(armed).toEqual([nextMinute]);
    expect(await expireBucket(deps, firstMinute)).toMatchObject({ synced: 0, postponed: 0 }); // moved out of it

    state.down = false;
    clock.now = new Date(Date.parse(String(postponed?.syncAt)) + 1);
    const submissionsBefore = state.submissions;
    expect(await expireBucket(deps, nextMinute)).toMatchObject({ synced: 1, postponed: 0 });
    expect(state.submissions).toBe(submissionsBefore + 1); // resubmitted once: the channel had never received it
    expect(received.has(refund.id)).toBe(true);
    expect(await container.refunds.get(refund.id)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await assertWalletMatchesLedger(merchant, accountId)).toMatchObject({
      availableMinor: 7_000,
      frozenMinor: 0,
    });
    expect(await expireBucket(deps, nextMinute)).toMatchObject({ synced: 0, postponed: 0 }); // nothing left
  });

  it('applies the channel answer without resubmitting when the channel already has the refund', async () => {
    const { merchant } = await newMerchant(container);
    const accountId = uniqueId('user');
    const payment = await paidRecharge(merchant, accountId);
    const { channel, state, received } = refundChannel(container.channels.get('SANDBOX') as PaymentChannel);
    const { deps, clock } = minuteTimerDeps(container, channel);
    const { refund } = await createRefund(deps, merchant, { payment_id: payment.id, refund_no: 'R2', amount: '10.00' });
    received.add(refund.id); // the channel got it; only its answer was lost
    state.down = false;
    const submissions = state.submissions;
    clock.now = new Date(Date.parse(firstSyncAt(refund.createdAt)) + 1);
    expect(await expireBucket(deps, expiryBucket(firstSyncAt(refund.createdAt)))).toMatchObject({ synced: 1 });
    expect(state.submissions).toBe(submissions);
    expect(await container.refunds.get(refund.id)).toMatchObject({ status: 'SUCCEEDED' });
    await assertWalletMatchesLedger(merchant, accountId);
  });

  it('counts UnsettledPastHorizon for a refund still unsettled hours after it was due', async () => {
    const { merchant } = await newMerchant(container);
    const payment = await paidRecharge(merchant, uniqueId('user'));
    const { channel } = refundChannel(container.channels.get('SANDBOX') as PaymentChannel);
    const { deps, clock } = minuteTimerDeps(container, channel);
    const counted: string[] = [];
    const watched = { ...deps, alarms: { count: (name: string) => counted.push(name) } };
    const { refund } = await createRefund(deps, merchant, { payment_id: payment.id, refund_no: 'R3', amount: '1.00' });
    clock.now = new Date(Date.parse(firstSyncAt(refund.createdAt)) + 1);
    await expireBucket(watched, expiryBucket(firstSyncAt(refund.createdAt)));
    expect(counted).not.toContain('UnsettledPastHorizon');
    const later = await container.refunds.get(refund.id);
    clock.now = new Date(Date.parse(firstSyncAt(refund.createdAt)) + UNSETTLED_HORIZON_MS + 1);
    await expireBucket(watched, expiryBucket(String(later?.syncAt)));
    expect(counted).toContain('UnsettledPastHorizon');
  });

  it('postpones an expired payment whose channel is down instead of failing the page, then closes it', async () => {
    const { merchant } = await newMerchant(container);
    const expiresAt = uniqueFarMinute().toISOString();
    const payment = paymentFixture({ merchantId: merchant.id, expiresAt, version: 0 });
    await container.store.commit({ payments: [{ payment: { ...payment, version: 1 }, expectedVersion: 0 }] });
    const { channel, state } = refundChannel(container.channels.get('SANDBOX') as PaymentChannel);
    const { deps, armed, clock } = minuteTimerDeps(container, channel);
    clock.now = new Date(Date.parse(payment.expiresAt) + 60_000);
    expect(await expireBucket(deps, expiryBucket(payment.expiresAt))).toMatchObject({ closed: 0, postponed: 1 });
    const postponed = await container.payments.get(payment.id);
    expect(postponed).toMatchObject({ status: 'PENDING', syncAttempts: 1 });
    expect(armed).toEqual([expiryBucket(String(postponed?.syncAt))]);

    state.down = false;
    clock.now = new Date(Date.parse(String(postponed?.syncAt)) + 1);
    expect(await expireBucket(deps, expiryBucket(String(postponed?.syncAt)))).toMatchObject({ closed: 1 });
    expect(await container.payments.get(payment.id)).toMatchObject({ status: 'CLOSED' });
  });
});
