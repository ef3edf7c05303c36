import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { sandboxTradeNo } from '#adapters/channels/sandbox.ts';
import { keys } from '#adapters/dynamo/keys.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { createPayment } from '#app/create-payment.ts';
import { expireBucket } from '#app/expire-payments.ts';
import { relayChange } from '#app/outbox-relay.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import type { PaymentChannel } from '#app/ports.ts';
import { setRiskConfig } from '#app/risk-admin.ts';
import { approveReview, rejectReview } from '#app/risk-review.ts';
import { parseInput } from '#app/validation.ts';
import { expiryBucket } from '#domain/expiry.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import { MAX_SYNC_DELAY_MS } from '#domain/status-sync.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';
import { minuteTimerDeps } from '../support/minute-timer.ts';
import { payAtChannel } from '../support/reconcile-fixtures.ts';

/**
 * The early status sync of `PENDING` payments (DynamoDB Local, the sandbox channel's own records, injected clock):
 * a payment paid at the channel whose callback was lost is settled by the minute timer of its sync minute, before its
 * expiry, exactly once; one still unpaid moves to later buckets and is closed at its expiry as before; a payment held
 * for risk review, or a balance payment, is never asked — until an operator approves it: then it is on the same
 * schedule from the approval on, and the relay arms its first ask's minute from the approval's stream record.
 */
const container = testContainer();
const schema = createPaymentSchema({ allowLoopbackHttp: false });
const SYNC_AFTER_MS = 5 * 60_000;

/** The minute timer's deps with a SANDBOX channel that counts the queries it answers, and the alarms counted. */
function syncDeps() {
  const sandbox = container.channels.get('SANDBOX') as PaymentChannel;
  const asked: string[] = [];
  const channel: PaymentChannel = Object.assign(Object.create(sandbox) as PaymentChannel, {
    async queryPayment(payment: Payment) {
      asked.push(payment.id);
      return sandbox.queryPayment(payment);
    },
  });
  const counted: string[] = [];
  const { deps: timerDeps, clock, armed } = minuteTimerDeps(container, channel);
  const deps = {
    ...timerDeps,
    paymentSyncAfterMs: SYNC_AFTER_MS,
    alarms: { count: (name: string) => counted.push(name) },
  };
  return { deps, clock, asked, armed, counted };
}

type Deps = ReturnType<typeof syncDeps>['deps'];

/** A new sandbox recharge of 25.00 for `accountId`, created at the deps' clock. */
async function recharge(deps: Deps, merchant: Merchant, accountId: string, fields: Record<string, unknown> = {}) {
  const body = parseInput(schema, {
    order_no: uniqueId('S'),
    amount: '25.00',
    subject: 'top-up',
    channel: 'SANDBOX',
    account_id: accountId,
    ...fields,
  });
  const created = await createPayment(deps, merchant, body);
  return created.payment;
}

/** Runs the minute timer of `syncAt`'s bucket at the end of that minute (when the timer fires). */
async function runTimerOf(deps: Deps, clock: { now: Date }, dueAt: string) {
  const bucket = expiryBucket(dueAt);
  clock.now = new Date(Date.parse(`${bucket}:00.000Z`) + 60_000);
  return expireBucket(deps, bucket);
}

/** The wallet's credits and the payment's `payment.succeeded` events. */
async function creditsAndEvents(merchant: Merchant, accountId: string, paymentId: string) {
  const wallet = await container.wallets.get(merchant.id, accountId, 'CNY');
  const { entries } = await container.wallets.listLedger(merchant.id, accountId, 'CNY', 100);
  const events = await container.events.list(merchant, { limit: 100 }, { type: 'payment.succeeded' });
  return {
    availableMinor: wallet.availableMinor,
    ledgerEntries: entries.length,
    ledgerSumMinor: entries.reduce((sum, entry) => sum + entry.availableDeltaMinor, 0),
    events: events.items.filter((event) => event.paymentId === paymentId).length,
  };
}

describe('early status sync of PENDING payments (DynamoDB Local, sandbox channel records, injected clock)', () => {
  it('credits a payment paid at the channel whose callback was lost at its first sync, long before its expiry, once', {
    timeout: 300_000,
  }, async () => {
    const { merchant } = await newMerchant(container);
    const accountId = uniqueId('acct');
    const { deps, clock, asked, counted } = syncDeps();
    const payment = await recharge(deps, merchant, accountId, { expire_in_seconds: 86_400 });
    expect(payment.syncAt).toBe(new Date(Date.parse(payment.createdAt) + SYNC_AFTER_MS).toISOString());
    const stored = await container.payments.get(payment.id);
    expect(stored?.syncAt).toBe(payment.syncAt);

    await payAtChannel(container, payment, new Date(Date.parse(payment.createdAt) + 60_000).toISOString(), false);
    const page = await runTimerOf(deps, clock, String(payment.syncAt));
    expect(page).toMatchObject({ done: true, synced: 1, closed: 0, succeeded: 0, postponed: 0 });
    expect(asked).toEqual([payment.id]);
    expect(clock.now.getTime()).toBeLessThan(Date.parse(payment.expiresAt) - 23 * 3_600_000);
    const settled = await container.payments.get(payment.id);
    expect(settled).toMatchObject({ status: 'SUCCEEDED', late: false, channelTradeNo: sandboxTradeNo(payment.id) });
    expect(counted).toEqual(['PendingPaymentSettledBySync']);
    expect(await creditsAndEvents(merchant, accountId, payment.id)).toEqual({
      availableMinor: 2_500,
      ledgerEntries: 1,
      ledgerSumMinor: 2_500,
      events: 1,
    });

    // The same minute's timer again (a retried task), and the expiry's: nothing left to do, nothing applied twice.
    expect(await expireBucket(deps, expiryBucket(String(payment.syncAt)))).toMatchObject({ synced: 0, postponed: 0 });
    expect(await runTimerOf(deps, clock, payment.expiresAt)).toMatchObject({ synced: 0, closed: 0, succeeded: 0 });
    expect(asked).toEqual([payment.id]);
    expect(await creditsAndEvents(merchant, accountId, payment.id)).toMatchObject({ ledgerEntries: 1, events: 1 });
  });

  // Generous: each round is a handful of DynamoDB Local transactions, slow on a busy machine (never a timing assertion).
  it('credits once when the late callback races the sync (6 rounds): one ledger entry, one event', {
    timeout: 600_000,
  }, async () => {
    const { merchant } = await newMerchant(container);
    const { deps, clock } = syncDeps();
    for (let round = 0; round < 6; round++) {
      const accountId = uniqueId('acct');
      const payment = await recharge(deps, merchant, accountId);
      await payAtChannel(container, payment, new Date(Date.parse(payment.createdAt) + 30_000).toISOString(), false);
      const callback = {
        paymentId: payment.id,
        status: 'SUCCEEDED' as const,
        amountMinor: payment.amountMinor,
        currency: 'CNY',
        channelTradeNo: sandboxTradeNo(payment.id),
      };
      const bucket = expiryBucket(String(payment.syncAt));
      clock.now = new Date(Date.parse(`${bucket}:00.000Z`) + 60_000);
      const [page, applied] = await Promise.all([
        expireBucket(deps, bucket),
        applyPaymentResult(deps, callback, 'SANDBOX'),
      ]);
      // Exactly one of the two applied it; the other found it settled.
      expect(page.synced + (applied.applied ? 1 : 0)).toBe(1);
      expect(await container.payments.get(payment.id)).toMatchObject({ status: 'SUCCEEDED' });
      expect(await creditsAndEvents(merchant, accountId, payment.id)).toEqual({
        availableMinor: 2_500,
        ledgerEntries: 1,
        ledgerSumMinor: 2_500,
        events: 1,
      });
    }
  });

  it('moves a still-unpaid payment to later buckets on a doubling delay, then closes it at its expiry as before', async () => {
    const { merchant } = await newMerchant(container);
    const accountId = uniqueId('acct');
    const { deps, clock, asked, armed } = syncDeps();
    const payment = await recharge(deps, merchant, accountId, { expire_in_seconds: 3_600 });
    const created = Date.parse(payment.createdAt);
    const dues: string[] = [];
    let current: Payment | undefined = payment;
    while (current?.syncAt) {
      const due: string = current.syncAt;
      dues.push(due);
      armed.length = 0;
      expect(await runTimerOf(deps, clock, due)).toMatchObject({ synced: 0, postponed: 1, closed: 0 });
      const moved: Payment | undefined = await container.payments.get(payment.id);
      expect(moved?.status).toBe('PENDING');
      expect(moved?.version).toBe((current.version ?? 0) + 1);
      // Its next minute's timer is armed: the next ask's, or the expiry's once no ask comes before it.
      expect(armed).toEqual([expiryBucket(moved?.syncAt ?? payment.expiresAt)]);
      // Gone from the bucket it left.
      expect(await expireBucket(deps, expiryBucket(due))).toMatchObject({ synced: 0, postponed: 0 });
      current = moved;
    }
    // Asked at +5, +16 and +37 min (each timer runs at the end of its minute, then the wait doubles: 10, 20 min);
    // the next (+78) would be past the expiry (+60), so the expiry's run is the last ask.
    expect(dues.length).toBe(3);
    expect(Date.parse(dues[0] ?? '') - created).toBe(SYNC_AFTER_MS);
    for (let i = 1; i < dues.length; i++) {
      const gap = Date.parse(dues[i] ?? '') - Date.parse(dues[i - 1] ?? '');
      expect(gap).toBeGreaterThan(SYNC_AFTER_MS * 2 ** i);
      expect(gap).toBeLessThanOrEqual(SYNC_AFTER_MS * 2 ** i + 60_000);
      expect(gap).toBeLessThanOrEqual(MAX_SYNC_DELAY_MS + 60_000);
    }
    expect(current).toMatchObject({ status: 'PENDING' });
    expect(current?.syncAt).toBeUndefined();
    expect(current?.syncAttempts).toBeUndefined();
    expect(asked).toEqual(dues.map(() => payment.id));

    // The expiry's timer closes it at the channel and in the gateway, exactly as without the early asks.
    expect(await runTimerOf(deps, clock, payment.expiresAt)).toMatchObject({ closed: 1, synced: 0 });
    expect(await container.payments.get(payment.id)).toMatchObject({ status: 'CLOSED' });
    expect((await container.sandboxStore.getPayment(payment.id))?.status).toBe('CLOSED');
    expect(await creditsAndEvents(merchant, accountId, payment.id)).toMatchObject({ availableMinor: 0, events: 0 });
  });

  it('has no early ask when the first one would not come before the expiry minute', async () => {
    const { merchant } = await newMerchant(container);
    const { deps } = syncDeps();
    const payment = await recharge(deps, merchant, uniqueId('acct'), { expire_in_seconds: 300 });
    expect(payment.syncAt).toBeUndefined();
    expect((await container.payments.get(payment.id))?.syncAt).toBeUndefined();
  });

  it('never asks the channel about a payment held for risk review', async () => {
    const { merchant } = await newMerchant(container);
    await setRiskConfig(
      container,
      { velocity: { payer: { max: 1, window_seconds: 3600 } }, weights: { 'velocity.payer': 60 } },
      merchant.id,
    );
    const { deps, clock, asked, armed } = syncDeps();
    const accountId = uniqueId('acct');
    const first = await recharge(deps, merchant, accountId);
    clock.now = new Date(clock.now.getTime() + 2 * 60_000); // its sync minute is not the first one's
    const held = await recharge(deps, merchant, accountId);
    expect(first.syncAt).toBeDefined();
    expect(held.risk?.review?.status).toBe('PENDING');
    expect(held.syncAt).toBeUndefined(); // its only bucket is its expiry's

    // Even if one carried an early ask (written before it was held), its timer does not ask the channel.
    const stored = (await container.payments.get(held.id)) as Payment;
    const due = new Date(Date.parse(held.createdAt) + SYNC_AFTER_MS).toISOString();
    await container.store.commit({
      payments: [{ payment: { ...stored, syncAt: due, version: stored.version + 1 }, expectedVersion: stored.version }],
    });
    expect(await runTimerOf(deps, clock, due)).toMatchObject({ postponed: 1, synced: 0 });
    expect(asked).toEqual([]);
    expect(armed).toEqual([expiryBucket(held.expiresAt)]);
    const moved = await container.payments.get(held.id);
    expect(moved).toMatchObject({ status: 'PENDING' });
    expect(moved?.syncAt).toBeUndefined();
  });
});

/** The payment's table item as the stream's new image carries it (what the relay reads). */
async function storedImage(paymentId: string): Promise<Record<string, unknown>> {
  const { Item } = await container.db.send(
    new GetCommand({ TableName: container.config.tableName, Key: keys.payment(paymentId) }),
  );
  return Item ?? {};
}

/** A merchant whose second payment from the same payer within an hour is held for review (score 60). */
async function merchantHoldingRepeats() {
  const { merchant } = await newMerchant(container);
  await setRiskConfig(
    container,
    { velocity: { payer: { max: 1, window_seconds: 3600 } }, weights: { 'velocity.payer': 60 } },
    merchant.id,
  );
  return merchant;
}

/** A payment held for review, created at the deps' clock (after an allowed first one from the same payer). */
async function heldRecharge(
  deps: Deps,
  clock: { now: Date },
  merchant: Merchant,
  fields: Record<string, unknown> = {},
) {
  const accountId = uniqueId('acct');
  await recharge(deps, merchant, accountId);
  clock.now = new Date(clock.now.getTime() + 2 * 60_000); // not the first payment's sync minute
  const held = await recharge(deps, merchant, accountId, fields);
  expect(held.risk?.review?.status).toBe('PENDING');
  expect(held.syncAt).toBeUndefined();
  return { held, accountId };
}

describe('an approved held payment joins the early status sync (DynamoDB Local, injected clock)', () => {
  it('moves to its first ask minute at approval; the relay arms that minute; a paid one is settled there once', {
    timeout: 300_000,
  }, async () => {
    const merchant = await merchantHoldingRepeats();
    const { deps, clock, asked, armed, counted } = syncDeps();
    const { held, accountId } = await heldRecharge(deps, clock, merchant, { expire_in_seconds: 86_400 });
    // Its insert armed only its expiry's minute (it has no early ask while held).
    armed.length = 0;
    await relayChange(deps, { kind: 'INSERT', item: await storedImage(held.id) });
    expect(armed).toEqual([expiryBucket(held.expiresAt)]);

    clock.now = new Date(clock.now.getTime() + 3 * 3_600_000); // the operator approves three hours later
    const approvedAt = clock.now.getTime();
    const approved = await approveReview(deps, held.id, 'known payer');
    expect(approved.payUrl).toBeDefined(); // registered at its channel by the approval itself
    const due = new Date(approvedAt + SYNC_AFTER_MS).toISOString();
    expect(approved.syncAt).toBe(due);
    const image = await storedImage(held.id);
    expect(image).toMatchObject({ syncAt: due, status: 'PENDING', risk: { review: { status: 'APPROVED' } } });
    expect(image.syncAttempts).toBeUndefined();
    // In the first ask's bucket, gone from its expiry's.
    expect((await container.expiryIndex.listPending(expiryBucket(due), 100)).paymentIds).toContain(held.id);
    expect((await container.expiryIndex.listPending(expiryBucket(held.expiresAt), 100)).paymentIds).not.toContain(
      held.id,
    );
    // The approval's stream record (a MODIFY) arms the first ask's minute.
    armed.length = 0;
    await relayChange(deps, { kind: 'MODIFY', item: image });
    expect(armed).toEqual([expiryBucket(due)]);

    await payAtChannel(container, approved, new Date(approvedAt + 60_000).toISOString(), false);
    expect(await runTimerOf(deps, clock, due)).toMatchObject({ synced: 1, closed: 0, succeeded: 0, postponed: 0 });
    expect(asked).toEqual([held.id]);
    expect(counted).toEqual(['PendingPaymentSettledBySync']);
    expect(await container.payments.get(held.id)).toMatchObject({ status: 'SUCCEEDED' });
    const settled = { availableMinor: 2_500, ledgerEntries: 1, ledgerSumMinor: 2_500, events: 1 };
    expect(await creditsAndEvents(merchant, accountId, held.id)).toEqual(settled);

    // A retried timer, the expiry's, and the approval's record relayed again (re-drive): nothing applied twice.
    expect(await expireBucket(deps, expiryBucket(due))).toMatchObject({ synced: 0, postponed: 0 });
    expect(await runTimerOf(deps, clock, held.expiresAt)).toMatchObject({ synced: 0, closed: 0, succeeded: 0 });
    armed.length = 0;
    await relayChange(deps, { kind: 'MODIFY', item: image });
    await relayChange(deps, { kind: 'MODIFY', item: await storedImage(held.id) }); // its success: not relayed
    expect(armed).toEqual([]); // the minute has passed: the relay runs the (conditional) sync itself, which skips it
    expect(asked).toEqual([held.id]);
    expect(await creditsAndEvents(merchant, accountId, held.id)).toEqual(settled);
  });

  it('asks an unpaid approved payment on the doubling schedule, then closes it at its expiry; later moves are not relayed', async () => {
    const merchant = await merchantHoldingRepeats();
    const { deps, clock, asked, armed } = syncDeps();
    const { held } = await heldRecharge(deps, clock, merchant, { expire_in_seconds: 3_600 });
    clock.now = new Date(clock.now.getTime() + 10 * 60_000);
    const approvedAt = clock.now.getTime();
    const approved = await approveReview(deps, held.id);
    expect(approved.syncAt).toBe(new Date(approvedAt + SYNC_AFTER_MS).toISOString());

    const dues: string[] = [];
    let current: Payment | undefined = approved;
    while (current?.syncAt) {
      dues.push(current.syncAt);
      expect(await runTimerOf(deps, clock, current.syncAt)).toMatchObject({ synced: 0, postponed: 1 });
      current = await container.payments.get(held.id);
      // A move's record is not the approval's: the relay ignores it (the move armed its own minute).
      armed.length = 0;
      await relayChange(deps, { kind: 'MODIFY', item: await storedImage(held.id) });
      expect(armed).toEqual([]);
    }
    // +5, +16 and +37 min after the approval (the clock is on a minute boundary; each timer runs at the end of its
    // minute, then the wait doubles); the next (+78) would be past the expiry (+60 after creation).
    expect(dues.map((due) => Date.parse(due) - approvedAt)).toEqual([5 * 60_000, 16 * 60_000, 37 * 60_000]);
    expect(asked).toEqual([held.id, held.id, held.id]);

    expect(await runTimerOf(deps, clock, held.expiresAt)).toMatchObject({ closed: 1, synced: 0 });
    expect(await container.payments.get(held.id)).toMatchObject({ status: 'CLOSED' });
    expect((await container.sandboxStore.getPayment(held.id))?.status).toBe('CLOSED');
  });

  it('stays in its expiry bucket when the first ask would not come before the expiry minute', async () => {
    const merchant = await merchantHoldingRepeats();
    const { deps, clock, armed } = syncDeps();
    const { held } = await heldRecharge(deps, clock, merchant, { expire_in_seconds: 600 });
    clock.now = new Date(Date.parse(held.expiresAt) - 4 * 60_000);
    const approved = await approveReview(deps, held.id);
    expect(approved.syncAt).toBeUndefined();
    expect((await container.expiryIndex.listPending(expiryBucket(held.expiresAt), 100)).paymentIds).toContain(held.id);
    await relayChange(deps, { kind: 'MODIFY', item: await storedImage(held.id) });
    expect(armed).toEqual([]); // its expiry's minute was armed by its insert
  });

  it('still closes a rejected payment, in no bucket afterwards and never asked', async () => {
    const merchant = await merchantHoldingRepeats();
    const { deps, clock, asked, armed } = syncDeps();
    const { held } = await heldRecharge(deps, clock, merchant, { expire_in_seconds: 3_600 });
    const rejected = await rejectReview(deps, held.id, 'stolen card');
    expect(rejected).toMatchObject({ status: 'CLOSED', risk: { review: { status: 'REJECTED' } } });
    await relayChange(deps, { kind: 'MODIFY', item: await storedImage(held.id) });
    expect(armed).toEqual([]);
    expect((await container.expiryIndex.listPending(expiryBucket(held.expiresAt), 100)).paymentIds).not.toContain(
      held.id,
    );
    expect(await runTimerOf(deps, clock, held.expiresAt)).toMatchObject({ closed: 0, synced: 0 });
    expect(asked).toEqual([]);
  });
});
