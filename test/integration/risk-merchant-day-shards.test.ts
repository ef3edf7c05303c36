import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { riskKeys } from '#adapters/dynamo/keys.ts';
import { DynamoRiskRepository } from '#adapters/dynamo/risk-repository.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { closePayment } from '#app/close-payment.ts';
import { createPayment } from '#app/create-payment.ts';
import { expirePayment } from '#app/expire-payments.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { LimitExceededError } from '#app/ports.ts';
import { setRiskConfig } from '#app/risk-admin.ts';
import { rejectReview } from '#app/risk-review.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import { AppError } from '#shared/errors.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

/**
 * The merchant-day limit kept on N counters, on DynamoDB Local with an injected clock: the count an operator sets
 * applies from the next UTC day; racing payments never take the day over its limit and then fill it exactly; a
 * split reservation is one transaction (all or nothing); every release path gives each share back to its own
 * counter, once. Every test has its own merchant, so its counters are its own.
 */
const SET_AT = new Date('2027-05-10T12:00:00.000Z');
const DAY = '2027-05-11';
const schema = createPaymentSchema({ allowLoopbackHttp: false });

/** A container on an injected clock; `random` (when given) picks the counter a check reads first. */
function harness(random?: () => number) {
  let now = SET_AT;
  const base = testContainer();
  const risk = new DynamoRiskRepository(base.db, base.config.tableName, random ? { random } : {});
  const container = testContainer({ clock: () => now, riskStore: risk, risk });
  return {
    container,
    at: (iso: string) => {
      now = new Date(iso);
    },
  };
}

type Harness = ReturnType<typeof harness>;

async function configured(h: Harness, limit: string, shards: number, extra: Record<string, unknown> = {}) {
  const { merchant } = await newMerchant(h.container);
  await setRiskConfig(
    h.container,
    { limits: { CNY: { merchant_day: limit } }, merchant_day_shards: shards, ...extra },
    merchant.id,
  );
  return merchant;
}

/** Creates a payment as a client would (a retryable 409 is sent again); a refusal is returned as the error. */
async function create(h: Harness, merchant: Merchant, amount: string, account = uniqueId('acct')) {
  const request = parseInput(schema, {
    order_no: uniqueId('M'),
    subject: 'top-up',
    channel: 'SANDBOX',
    amount,
    account_id: account,
  });
  for (;;) {
    try {
      return (await createPayment(h.container, merchant, request)).payment;
    } catch (error) {
      if (error instanceof AppError && error.code === 'REQUEST_IN_PROGRESS') continue;
      if (error instanceof AppError) return error;
      throw error;
    }
  }
}

function created(outcome: Payment | AppError): Payment {
  if (outcome instanceof AppError) throw outcome;
  return outcome;
}

/** Counter `shard` of the merchant's day (undefined: the unsharded counter), strongly consistent. */
async function counter(h: Harness, merchant: Merchant, shard?: number, day = DAY): Promise<number> {
  const { Item } = await h.container.db.send(
    new GetCommand({
      TableName: h.container.config.tableName,
      Key: riskKeys.merchantCounter(merchant.id, day, shard),
      ConsistentRead: true,
    }),
  );
  return Number(Item?.total_CNY ?? 0);
}

async function counters(h: Harness, merchant: Merchant, shards: number, day = DAY): Promise<number[]> {
  return Promise.all(Array.from({ length: shards }, (_, k) => counter(h, merchant, k, day)));
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const sharesOf = (payment: Payment) =>
  payment.risk?.reservations.find((r) => r.counter === 'MERCHANT_DAY')?.shares ?? [];

describe('sharded merchant-day limit (DynamoDB Local)', () => {
  it('applies a count from the next UTC day: today keeps its one counter, tomorrow uses the shards', async () => {
    const h = harness(() => 0.99);
    const merchant = await configured(h, '80.00', 8);
    const config = await h.container.riskStore.config(merchant.id);
    expect(config?.merchantDayShards).toEqual([{ from: DAY, shards: 8 }]);
    // The day of the change: the one unsharded counter, no shares.
    h.at('2027-05-10T13:00:00.000Z');
    const today = created(await create(h, merchant, '5.00'));
    expect(sharesOf(today)).toEqual([]);
    expect(await counter(h, merchant, undefined, '2027-05-10')).toBe(500);
    expect(sum(await counters(h, merchant, 8, '2027-05-10'))).toBe(0);
    // The next day: counter 7 (random 0.99), the unsharded one untouched.
    h.at(`${DAY}T09:00:00.000Z`);
    const tomorrow = created(await create(h, merchant, '5.00'));
    expect(sharesOf(tomorrow)).toEqual([{ shard: 7, amountMinor: 500 }]);
    expect(await counters(h, merchant, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 500]);
    expect(await counter(h, merchant)).toBe(0);
    // A change on that day (8 → 2) leaves the day's 8 counters in force; the day after has 2.
    await setRiskConfig(h.container, { merchant_day_shards: 2 }, merchant.id);
    expect((await h.container.riskStore.config(merchant.id))?.merchantDayShards).toEqual([
      { from: DAY, shards: 8 },
      { from: '2027-05-12', shards: 2 },
    ]);
    const again = created(await create(h, merchant, '5.00'));
    expect(sharesOf(again)).toEqual([{ shard: 7, amountMinor: 500 }]);
    h.at('2027-05-12T09:00:00.000Z');
    const after = created(await create(h, merchant, '5.00'));
    expect(sharesOf(after)).toEqual([{ shard: 1, amountMinor: 500 }]);
    expect(await counters(h, merchant, 2, '2027-05-12')).toEqual([0, 500]);
  }, 120_000);

  it('refuses counts that do not suit the limits, with the reason (nothing changes)', async () => {
    const h = harness();
    const { merchant } = await newMerchant(h.container);
    const set = (input: Record<string, unknown>) => setRiskConfig(h.container, input, merchant.id);
    await expect(set({ merchant_day_shards: 0 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(set({ merchant_day_shards: 257 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(set({ limits: { CNY: { merchant_day: '0.10' } }, merchant_day_shards: 16 })).rejects.toThrow(
      /at least 16 minor units/,
    );
    // 1,000.00 over 64 counters is 15.62 each: a 500.00 payment would need 33 of them.
    await expect(
      set({ limits: { CNY: { merchant_day: '1000.00', payment: '500.00' } }, merchant_day_shards: 64 }),
    ).rejects.toThrow(/more than 10 of 64 counters; at most 20 suit/);
    expect(await h.container.riskStore.config(merchant.id)).toBeUndefined();
  });

  it('never takes the day over its limit when 24 payments race, and fills it exactly afterwards', async () => {
    const h = harness();
    const merchant = await configured(h, '80.00', 8); // 1,000 per counter: a 7.00 payment fits one counter
    h.at(`${DAY}T10:00:00.000Z`);
    const outcomes = await Promise.all(Array.from({ length: 24 }, () => create(h, merchant, '7.00')));
    const admitted = outcomes.filter((outcome): outcome is Payment => !(outcome instanceof AppError));
    for (const refused of outcomes.filter((outcome) => outcome instanceof AppError)) {
      expect(refused.code).toBe('RISK_REJECTED');
      expect(refused.details).toEqual({ rules: ['limit.merchant_day'] });
    }
    expect(admitted.length).toBeGreaterThan(0);
    expect(admitted.length).toBeLessThanOrEqual(11); // 11 × 7.00 = 77.00 ≤ 80.00 < 12 × 7.00
    const totals = await counters(h, merchant, 8);
    expect(sum(totals)).toBe(admitted.length * 700);
    for (const total of totals) expect(total).toBeLessThanOrEqual(1_000);
    expect(sum(admitted.flatMap(sharesOf).map((share) => share.amountMinor))).toBe(admitted.length * 700);
    // One at a time, a payment is refused only when the counters together lack room: fill the day exactly.
    while (!((await create(h, merchant, '7.00')) instanceof AppError));
    const left = 8_000 - sum(await counters(h, merchant, 8));
    expect(left).toBeLessThan(700);
    expect(await create(h, merchant, ((left + 1) / 100).toFixed(2))).toBeInstanceOf(AppError);
    if (left > 0) created(await create(h, merchant, (left / 100).toFixed(2)));
    expect(await counters(h, merchant, 8)).toEqual(Array(8).fill(1_000));
    expect(await counter(h, merchant)).toBe(0);
  }, 300_000);

  it('takes a payment larger than any counter has room for over several counters in ONE transaction', async () => {
    const h = harness(() => 0); // every check reads counter 0 first
    const merchant = await configured(h, '40.00', 4); // 1,000 per counter
    h.at(`${DAY}T10:00:00.000Z`);
    expect(sharesOf(created(await create(h, merchant, '6.00')))).toEqual([{ shard: 0, amountMinor: 600 }]);
    expect(sharesOf(created(await create(h, merchant, '6.00')))).toEqual([{ shard: 1, amountMinor: 600 }]);
    const transactions: string[] = [];
    h.container.db.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'TransactWriteItemsCommand') transactions.push(context.commandName);
        return next(args);
      },
      { step: 'initialize', name: 'countTransactions' },
    );
    let large: Payment;
    try {
      large = created(await create(h, merchant, '25.00'));
    } finally {
      h.container.db.middlewareStack.remove('countTransactions');
    }
    expect(transactions).toHaveLength(1);
    expect(sharesOf(large)).toEqual([
      { shard: 2, amountMinor: 1_000 },
      { shard: 3, amountMinor: 1_000 },
      { shard: 0, amountMinor: 400 },
      { shard: 1, amountMinor: 100 },
    ]);
    expect(await counters(h, merchant, 4)).toEqual([1_000, 700, 1_000, 1_000]);
    // 3.00 left: 3.01 is refused at the check.
    const refused = await create(h, merchant, '3.01');
    expect(refused).toMatchObject({ code: 'RISK_REJECTED', details: { rules: ['limit.merchant_day'] } });
    // At the commit, a split is all or nothing: one full counter refuses the whole of it.
    const request = {
      counter: 'MERCHANT_DAY' as const,
      merchantId: merchant.id,
      period: DAY,
      currency: 'CNY',
      amountMinor: 301,
      limitMinor: 4_000,
      shards: 4,
      shares: [
        { shard: 1, amountMinor: 300 },
        { shard: 2, amountMinor: 1 },
      ],
    };
    const risk = { merchantId: merchant.id, amountMinor: 301, currency: 'CNY', limits: [request], activity: [] };
    await expect(h.container.store.commit({ risk })).rejects.toBeInstanceOf(LimitExceededError);
    expect(await counters(h, merchant, 4)).toEqual([1_000, 700, 1_000, 1_000]);
  }, 120_000);

  it('gives each share back to its own counter once on close, expiry, failure and rejection', async () => {
    const h = harness(() => 0);
    const merchant = await configured(h, '40.00', 4, {
      velocity: { payer: { max: 1, window_seconds: 3600 } },
      weights: { 'velocity.payer': 60 },
    });
    h.at(`${DAY}T10:00:00.000Z`);
    const split = created(await create(h, merchant, '25.00')); // 1,000 + 1,000 + 500 on counters 0, 1, 2
    const other = created(await create(h, merchant, '6.00')); // counter 0 full: 600 on counter 3
    const expiring = created(await create(h, merchant, '3.00')); // 300 on counter 2 (the most room)
    const payer = uniqueId('acct');
    created(await create(h, merchant, '1.00', payer)); // 100 on counter 3
    const held = created(await create(h, merchant, '2.00', payer)); // the payer's 2nd: REVIEW; 200 on counter 3
    expect(held.risk?.decision).toBe('REVIEW');
    expect(sharesOf(split)).toHaveLength(3);
    expect(await counters(h, merchant, 4)).toEqual([1_000, 1_000, 800, 900]);

    await closePayment(h.container, merchant, split.id);
    expect(await counters(h, merchant, 4)).toEqual([0, 0, 300, 900]);
    await expect(closePayment(h.container, merchant, split.id)).rejects.toMatchObject({ code: 'INVALID_STATE' });

    const failed = { paymentId: other.id, status: 'FAILED' as const, amountMinor: 600, currency: 'CNY' };
    await applyPaymentResult(h.container, { ...failed, channelTradeNo: `sbx_${other.id}` }, 'SANDBOX');
    await applyPaymentResult(h.container, { ...failed, channelTradeNo: `sbx_${other.id}` }, 'SANDBOX');
    expect(await counters(h, merchant, 4)).toEqual([0, 0, 300, 300]);

    await rejectReview(h.container, held.id, 'stolen card');
    await expect(rejectReview(h.container, held.id)).rejects.toThrow(/not held/);
    expect(await counters(h, merchant, 4)).toEqual([0, 0, 300, 100]);

    h.at(new Date(Date.parse(expiring.expiresAt) + 60_000).toISOString());
    expect(await expirePayment(h.container, expiring.id)).toBe('closed');
    expect(await expirePayment(h.container, expiring.id)).toBe('skipped');
    expect(await counters(h, merchant, 4)).toEqual([0, 0, 0, 100]);

    // A verified success after the close is never dropped: it takes its shares again, on the same counters.
    const paid = { paymentId: split.id, status: 'SUCCEEDED' as const, amountMinor: 2_500, currency: 'CNY' };
    await applyPaymentResult(h.container, { ...paid, channelTradeNo: `sbx_${split.id}` }, 'SANDBOX');
    expect(await counters(h, merchant, 4)).toEqual([1_000, 1_000, 500, 100]);
  }, 180_000);
});
