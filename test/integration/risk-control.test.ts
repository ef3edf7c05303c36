import { describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/dynamo/audit-log.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { closePayment } from '#app/close-payment.ts';
import { createPayment } from '#app/create-payment.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { type ChangeSet, LimitExceededError } from '#app/ports.ts';
import { addBlacklistEntry, setRiskConfig } from '#app/risk-admin.ts';
import { approveReview, rejectReview } from '#app/risk-review.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import { AppError } from '#shared/errors.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

/**
 * The risk engine on DynamoDB Local: limits reserved in the creating transaction (exact under a race), given back
 * once on close and failure; blacklists; a held (REVIEW) payment that nothing can pay until an operator approves it.
 * Every test configures its own merchant's rules, so tests sharing the table never see each other's limits.
 */
const container = testContainer();
const schema = createPaymentSchema({ allowLoopbackHttp: false });
const risk = container.riskStore;

function body(fields: Record<string, unknown>) {
  return parseInput(schema, { order_no: uniqueId('R'), subject: 'top-up', channel: 'SANDBOX', ...fields });
}

/** Creates a payment as a client would: a retryable 409 is sent again; a refusal is returned as its code. */
async function create(merchant: Merchant, fields: Record<string, unknown>) {
  const request = body(fields);
  for (;;) {
    try {
      return (await createPayment(container, merchant, request)).payment;
    } catch (error) {
      if (error instanceof AppError && error.code === 'REQUEST_IN_PROGRESS') continue;
      if (error instanceof AppError) return error;
      throw error;
    }
  }
}

/** The merchant's `risk.blocked` audit records of the last ten minutes. */
async function blockedRecords(merchant: Merchant) {
  const records = await new DynamoAuditLog(container.db, container.config.tableName).list({
    since: new Date(container.clock().getTime() - 600_000),
    until: new Date(container.clock().getTime() + 60_000),
    merchantId: merchant.id,
  });
  return records.filter((record) => record.action === 'risk.blocked');
}

async function payerDayMinor(merchant: Merchant, accountId: string): Promise<number> {
  const snapshot = await risk.snapshot({
    now: container.clock(),
    merchantId: merchant.id,
    payerAccountId: accountId,
    amountMinor: 1,
    currency: 'CNY',
  });
  return snapshot.payerDayMinor;
}

describe('risk control on DynamoDB Local', () => {
  it('admits exactly what fits when 50 payments race for one payer daily limit', { timeout: 180_000 }, async () => {
    const { merchant } = await newMerchant(container);
    await setRiskConfig(container, { limits: { CNY: { payer_day: '100.00' } } }, merchant.id);
    const account = uniqueId('acct');
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () => create(merchant, { amount: '7.00', account_id: account })),
    );
    const created = outcomes.filter((outcome) => !(outcome instanceof AppError));
    const refused = outcomes.filter((outcome) => outcome instanceof AppError);
    expect(created).toHaveLength(14); // 14 × 7.00 = 98.00 ≤ 100.00 < 15 × 7.00
    for (const error of refused) {
      expect(error.code).toBe('RISK_REJECTED');
      expect(error.details).toEqual({ rules: ['limit.payer_day'] });
    }
    expect(await payerDayMinor(merchant, account)).toBe(9800);
    // Every refusal (at the check or at the commit) left exactly one audit record naming the rule.
    const audited = await blockedRecords(merchant);
    expect(audited).toHaveLength(refused.length);
    expect(new Set(audited.map((record) => record.resource.id)).size).toBe(refused.length);
    for (const record of audited) {
      expect(record.after).toMatchObject({ amountMinor: 700, currency: 'CNY', rules: ['limit.payer_day'] });
    }
  });

  it('gives a closed payment amount back once, and a failed one', async () => {
    const { merchant } = await newMerchant(container);
    await setRiskConfig(container, { limits: { CNY: { payer_day: '10.00' } } }, merchant.id);
    const account = uniqueId('acct');
    const first = await create(merchant, { amount: '6.00', account_id: account });
    if (first instanceof AppError) throw first;
    const over = await create(merchant, { amount: '4.01', account_id: account });
    expect(over instanceof AppError && over.code).toBe('RISK_REJECTED');
    await closePayment(container, merchant, first.id);
    await expect(closePayment(container, merchant, first.id)).rejects.toThrow(/only PENDING/);
    expect(await payerDayMinor(merchant, account)).toBe(0);
    const exact = await create(merchant, { amount: '10.00', account_id: account });
    if (exact instanceof AppError) throw exact;
    expect(await payerDayMinor(merchant, account)).toBe(1000);
    const failed = { paymentId: exact.id, status: 'FAILED' as const, amountMinor: 1000, currency: 'CNY' };
    await applyPaymentResult(container, { ...failed, channelTradeNo: `sbx_${exact.id}` }, 'SANDBOX');
    await applyPaymentResult(container, { ...failed, channelTradeNo: `sbx_${exact.id}` }, 'SANDBOX');
    expect(await payerDayMinor(merchant, account)).toBe(0);
    // A verified success after the failure is never dropped: it takes its amount again.
    const paid = { ...failed, status: 'SUCCEEDED' as const, channelTradeNo: `sbx_${exact.id}` };
    await applyPaymentResult(container, paid, 'SANDBOX');
    expect(await payerDayMinor(merchant, account)).toBe(1000);
  });

  it('blocks a blacklisted device with its rule id, and admits it once the entry has expired', async () => {
    const { merchant } = await newMerchant(container);
    const device = uniqueId('dev');
    await addBlacklistEntry(container, { kind: 'device', value: device, reason: 'chargebacks' });
    const blocked = await create(merchant, { amount: '1.00', device_id: device });
    expect(blocked).toBeInstanceOf(AppError);
    expect(blocked instanceof AppError && [blocked.httpStatus, blocked.code, blocked.details]).toEqual([
      403,
      'RISK_REJECTED',
      { rules: ['blacklist.device'] },
    ]);
    const [record, ...more] = await blockedRecords(merchant);
    expect(more).toHaveLength(0);
    expect(record).toMatchObject({
      actor: { type: 'merchant', id: merchant.id },
      resource: { type: 'payment_attempt' },
      after: { amountMinor: 100, currency: 'CNY', channel: 'SANDBOX', rules: ['blacklist.device'] },
    });
    expect(typeof record?.after?.score).toBe('number');
    expect(JSON.stringify(record)).not.toContain(device);
    const attempt = await container.payments.findByOrderNo(merchant.id, String(record?.resource.id));
    expect(attempt).toBeUndefined();
    const expired = uniqueId('dev');
    await addBlacklistEntry(container, { kind: 'device', value: expired, expiresAt: '2020-01-01T00:00:00Z' });
    const admitted = await create(merchant, { amount: '1.00', device_id: expired });
    expect(admitted).not.toBeInstanceOf(AppError);
  });

  it('records a limit used up between the check and the commit as one risk.blocked audit record', async () => {
    const { merchant } = await newMerchant(container);
    await setRiskConfig(container, { limits: { CNY: { payer_day: '100.00' } } }, merchant.id);
    // The racing payment is simulated: the payment's own transaction finds the payer's day used up.
    const racing = {
      ...container,
      store: {
        commit: (changes: ChangeSet) =>
          changes.payments ? Promise.reject(new LimitExceededError('PAYER_DAY')) : container.store.commit(changes),
      },
    };
    const request = body({ amount: '5.00', account_id: uniqueId('acct') });
    const refused = await createPayment(racing, merchant, request).catch((error: unknown) => error);
    expect(refused instanceof AppError && refused.details).toEqual({ rules: ['limit.payer_day'] });
    const records = await blockedRecords(merchant);
    expect(records.map((record) => [record.resource.id, record.after?.rules])).toEqual([
      [request.order_no, ['limit.payer_day']],
    ]);
    expect(await container.payments.findByOrderNo(merchant.id, request.order_no)).toBeUndefined();
  });

  it('still answers 403 when the audit record of a block cannot be written', async () => {
    const { merchant } = await newMerchant(container);
    const device = uniqueId('dev');
    await addBlacklistEntry(container, { kind: 'device', value: device });
    const failing = {
      ...container,
      store: {
        commit: async () => {
          throw new Error('table unavailable');
        },
      },
    };
    const refused = await createPayment(failing, merchant, body({ amount: '1.00', device_id: device })).catch(
      (error: unknown) => error,
    );
    expect(refused instanceof AppError && [refused.httpStatus, refused.code]).toEqual([403, 'RISK_REJECTED']);
    expect(await blockedRecords(merchant)).toHaveLength(0);
  });

  it('blocks an IP inside a blacklisted CIDR range', async () => {
    const { merchant } = await newMerchant(container);
    const octet = 1 + Math.floor(Math.random() * 250);
    await addBlacklistEntry(container, { kind: 'ip', value: `198.18.${octet}.0/24` });
    const blocked = await create(merchant, { amount: '1.00', payer_ip: `198.18.${octet}.77` });
    expect(blocked instanceof AppError && blocked.details).toEqual({ rules: ['blacklist.ip'] });
    const outside = await create(merchant, { amount: '1.00', payer_ip: `198.19.${octet}.77` });
    expect(outside).not.toBeInstanceOf(AppError);
  });

  it('holds a REVIEW payment unregistered at its channel until an operator approves it', async () => {
    const { merchant } = await newMerchant(container);
    await setRiskConfig(
      container,
      { velocity: { payer: { max: 1, window_seconds: 3600 } }, weights: { 'velocity.payer': 60 } },
      merchant.id,
    );
    const account = uniqueId('acct');
    const first = await create(merchant, { amount: '5.00', account_id: account });
    const held = await create(merchant, { amount: '5.00', account_id: account });
    if (first instanceof AppError || held instanceof AppError) throw new Error('both are created');
    expect(first.risk).toMatchObject({ decision: 'ALLOW', rules: [] });
    expect(held.risk).toMatchObject({ decision: 'REVIEW', score: 60, rules: ['velocity.payer'] });
    expect(held.risk?.review?.status).toBe('PENDING');
    expect(held.payUrl).toBeUndefined();
    expect(await risk.listReviews(container.clock())).toContain(held.id);

    const approved = await approveReview(container, held.id, 'known customer');
    expect(approved.payUrl).toContain(held.id);
    expect(approved.risk?.review).toMatchObject({ status: 'APPROVED', note: 'known customer' });
    await expect(approveReview(container, held.id)).rejects.toThrow(/not held/);
    const paid = { paymentId: held.id, status: 'SUCCEEDED' as const, amountMinor: 500, currency: 'CNY' };
    const outcome = await applyPaymentResult(container, { ...paid, channelTradeNo: `sbx_${held.id}` }, 'SANDBOX');
    expect(outcome.payment.status).toBe('SUCCEEDED');
  });

  it('closes a rejected payment and gives its reservations back', async () => {
    const { merchant } = await newMerchant(container);
    await setRiskConfig(
      container,
      {
        limits: { CNY: { payer_day: '50.00' } },
        velocity: { payer: { max: 1, window_seconds: 3600 } },
        weights: { 'velocity.payer': 60 },
      },
      merchant.id,
    );
    const account = uniqueId('acct');
    await create(merchant, { amount: '5.00', account_id: account });
    const held = await create(merchant, { amount: '5.00', account_id: account });
    if (held instanceof AppError) throw held;
    expect(await payerDayMinor(merchant, account)).toBe(1000);
    const rejected = await rejectReview(container, held.id, 'stolen card');
    expect(rejected.status).toBe('CLOSED');
    expect(rejected.risk?.review?.status).toBe('REJECTED');
    expect(await payerDayMinor(merchant, account)).toBe(500);
    await expect(rejectReview(container, held.id)).rejects.toThrow(/not held/);
  });
});
