import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/dynamo/audit-log.ts';
import { applyRefundResult } from '#app/apply-refund-result.ts';
import { createRefund } from '#app/create-refund.ts';
import { changeFeeSchedule } from '#app/fees.ts';
import { createMerchant } from '#app/merchant-admin.ts';
import { reconcileDay } from '#app/reconcile.ts';
import { billKey, reportKey, runReportKey } from '#domain/buckets.ts';
import { SETTLEMENT_CSV_HEADER } from '#domain/settlement.ts';
import { MerchantClient } from '../../local/merchant-client.ts';
import { runCliCaptured, runCliForJson } from '../../scripts/cli.ts';
import { feesCli } from '../../scripts/fees.ts';
import { sandboxBill } from '../support/bills.ts';
import { newMerchant, uniqueId } from '../support/fixtures.ts';
import { startHttpStack } from '../support/http-stack.ts';
import { at, line, payAtChannel, pendingPayment, readText, uniqueDate } from '../support/reconcile-fixtures.ts';

describe('fees and the settlement summary (DynamoDB Local + local S3)', () => {
  const financeId = uniqueId('mch_finance');
  let stack: Awaited<ReturnType<typeof startHttpStack>>;
  let finance: MerchantClient;

  beforeAll(async () => {
    process.env.FINANCE_MERCHANT_IDS = financeId;
    stack = await startHttpStack();
    const { secret } = await createMerchant(stack.container, { id: financeId, name: 'Finance' });
    finance = new MerchantClient({ apiBase: stack.apiBase, merchantId: financeId, merchantSecret: secret });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a day with payments, a refund, a repair and a held-back difference: hand-computed totals, byte-identical re-runs', async () => {
    const container = stack.container;
    const date = uniqueDate();
    const { merchant } = await newMerchant(container);
    const { merchant: other } = await newMerchant(container);
    // Each merchant has its own schedule (a merchant's rule wins over the default one, which other tests may set).
    const set = (merchantId: string, ...rule: string[]) =>
      runCliForJson(feesCli, ['set', '--merchant', merchantId, '--channel', 'SANDBOX', '--method', '*', ...rule]);
    await set(merchant.id, '--percent', '0.6', '--fixed', '0.10', '--bearer', 'MERCHANT');
    await set(other.id, '--percent', '1', '--bearer', 'GATEWAY');

    const big = await pendingPayment(container, merchant, '100.00'); // 0.60 + 0.10 = 0.70
    const odd = await pendingPayment(container, merchant, '33.33'); // 0.19998 → 0.20 (half up) + 0.10 = 0.30
    const dropped = await pendingPayment(container, merchant, '50.00'); // repaired: 0.30 + 0.10 = 0.40
    const mismatch = await pendingPayment(container, merchant, '20.00'); // held back: not in the settlement
    const theirs = await pendingPayment(container, other, '10.00'); // 0.10, borne by the gateway
    for (const [i, payment] of [big, odd, mismatch, theirs].entries()) {
      await payAtChannel(container, payment, at(date, 100 + i), true);
    }
    await payAtChannel(container, dropped, at(date, 200), false);
    const { refund } = await createRefund(container, merchant, {
      payment_id: big.id,
      refund_no: uniqueId('R'),
      amount: '40.00',
    });
    await applyRefundResult(container, { refundId: refund.id, status: 'SUCCEEDED' }, 'SANDBOX');
    await container.files.putBill(
      billKey('SANDBOX', date),
      sandboxBill([
        line(big, at(date, 100), { feeMinor: 60 }),
        line(odd, at(date, 101), { feeMinor: 20 }),
        line(mismatch, at(date, 102), { amountMinor: 2001, feeMinor: 12 }),
        line(theirs, at(date, 103), { feeMinor: 6 }),
        line(dropped, at(date, 200), { feeMinor: 30 }),
        line(big, at(date, 300), { kind: 'REFUND', gatewayId: refund.id, amountMinor: 4000, feeMinor: -24 }),
      ]),
    );

    const first = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(first.summary).toMatchObject({ matched: 4, amount_mismatch: 1, channel_only: 1, repaired: 1 });
    const csv = await readText(container, reportKey(date, 'SANDBOX', 'settlement.csv'));
    // Refund of 40.00 returns floor(0.60 × 40/100) = 0.24 of the merchant fee; the fixed 0.10 is kept.
    // mine: gross 100 + 33.33 + 50 = 183.33; channel fees 0.60 + 0.20 + 0.30 − 0.24 = 0.86;
    //       merchant fees 0.70 + 0.30 + 0.40 − 0.24 = 1.16; net 183.33 − 40.00 − 1.16 = 142.17.
    const rows = {
      [merchant.id]: `${merchant.id},CNY,3,183.33,1,40.00,0.86,1.16,0.00,142.17`,
      [other.id]: `${other.id},CNY,1,10.00,0,0.00,0.06,0.00,0.10,10.00`,
    };
    const sorted = [merchant.id, other.id].sort().map((id) => rows[id]);
    expect(csv).toBe(`${[SETTLEMENT_CSV_HEADER, ...sorted].join('\n')}\n`);

    // Each settled line's fees are recorded, with the schedule version that priced it.
    expect(await container.feeRecords.get(odd.id)).toMatchObject({
      kind: 'PAYMENT',
      merchantId: merchant.id,
      channelFeeMinor: 20,
      merchantFee: { feeMinor: 30, percentMinor: 20, fixedMinor: 10, bearer: 'MERCHANT', source: `${merchant.id}@v1` },
      runId: first.runId,
    });
    expect(await container.feeRecords.get(dropped.id)).toMatchObject({ merchantFee: { feeMinor: 40 } });
    expect(await container.feeRecords.get(refund.id)).toMatchObject({
      kind: 'REFUND',
      paymentId: big.id,
      channelFeeMinor: -24,
      merchantFee: { feeMinor: 24, fixedMinor: 0 },
    });
    expect(await container.feeRecords.get(mismatch.id)).toBeUndefined();

    // A later schedule version does not re-price the day (its payments were paid before it took effect).
    await set(merchant.id, '--percent', '5', '--bearer', 'MERCHANT', '--from', '2999-12-31T00:00:00Z');
    const second = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(second.summary).toEqual(first.summary);
    expect(await readText(container, runReportKey(date, 'SANDBOX', second.runId, 'settlement.csv'))).toBe(csv);
    expect(await readText(container, runReportKey(date, 'SANDBOX', first.runId, 'settlement.csv'))).toBe(csv);
    expect(await container.feeRecords.get(odd.id)).toMatchObject({ runId: second.runId });

    // Downloadable through the reconciliation API, beside the differences.
    const response = await finance.request('GET', `/v1/reconciliations/${date}?channel=SANDBOX`);
    expect(response.status).toBe(200);
    const urls = response.body.report_urls as Record<string, string>;
    expect(Object.keys(urls).sort()).toEqual(['differences.csv', 'settlement.csv', 'summary.json']);
    expect(await (await fetch(String(urls['settlement.csv']))).text()).toBe(csv);
  }, 180_000);

  it('a day without a bill or trades writes an empty settlement (the header alone)', async () => {
    const date = uniqueDate();
    const run = await reconcileDay(stack.container, { channel: 'SANDBOX', date });
    expect(run).toMatchObject({ status: 'COMPLETED', details: { reason: 'NO_ACTIVITY' } });
    const csv = await readText(stack.container, runReportKey(date, 'SANDBOX', run.runId, 'settlement.csv'));
    expect(csv).toBe(`${SETTLEMENT_CSV_HEADER}\n`);
  });

  it('schedules: versioned, audited, conditional; bad input changes nothing', async () => {
    const container = stack.container;
    const { merchant } = await newMerchant(container);
    const since = new Date(Date.now() - 60_000);
    const first = await runCliForJson(feesCli, [
      'set',
      '--merchant',
      merchant.id,
      '--channel',
      'ALIPAY',
      '--method',
      'QR',
      '--percent',
      '0.38',
      '--bearer',
      'MERCHANT',
    ]);
    expect(first).toMatchObject({ scope: merchant.id, versions: [{ version: 1, rules: [{ percent: '0.38' }] }] });
    await changeFeeSchedule(container, { scope: merchant.id, channel: 'ALIPAY', method: 'QR', remove: true });
    const shown = (await runCliForJson(feesCli, ['show', '--merchant', merchant.id])) as { versions: unknown[] };
    expect(shown.versions).toMatchObject([{ version: 1 }, { version: 2, rules: [] }]);

    for (const bad of [
      ['--percent', '100.5', '--bearer', 'MERCHANT'],
      ['--percent', '0.1', '--bearer', 'PAYER'],
      ['--percent', '0.1', '--fixed', '1e3', '--bearer', 'MERCHANT'],
      ['--percent', '0.1', '--bearer', 'MERCHANT', '--from', '2000-01-01T00:00:00Z'],
    ]) {
      const refused = await runCliCaptured(feesCli, [
        'set',
        '--merchant',
        merchant.id,
        '--channel',
        'ALIPAY',
        '--method',
        '*',
        ...bad,
      ]);
      expect(refused.code, bad.join(' ')).toBe(1);
    }
    const unknown = await runCliCaptured(feesCli, ['show', '--merchant', uniqueId('mch_nobody')]);
    expect(unknown.code).toBe(1);
    expect(((await container.feeSchedules.get(merchant.id))?.versions ?? []).length).toBe(2);

    // Two operators changing the same version: one wins, the other is refused (StaleStateError), nothing lost.
    // Both read the schedule before either writes (a barrier on the reads), so the race is certain, not likely.
    let reads = 0;
    let bothRead: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => {
      bothRead = resolve;
    });
    const feeSchedules = {
      get: async (scope: string) => {
        const schedule = await container.feeSchedules.get(scope);
        if (++reads === 2) bothRead();
        await barrier;
        return schedule;
      },
      put: container.feeSchedules.put.bind(container.feeSchedules),
    };
    const racers = await Promise.allSettled(
      ['0.5', '0.7'].map((percent) =>
        changeFeeSchedule(
          { ...container, feeSchedules },
          { scope: merchant.id, channel: 'SANDBOX', method: '*', percent, bearer: 'MERCHANT' },
        ),
      ),
    );
    expect(racers.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(((await container.feeSchedules.get(merchant.id))?.versions ?? []).length).toBe(3);

    const trail = await new DynamoAuditLog(container.db, container.config.tableName).list({
      since,
      until: new Date(Date.now() + 60_000),
      merchantId: merchant.id,
    });
    const changes = trail.filter((record) => record.action === 'fees.schedule_changed');
    expect(changes).toHaveLength(3);
    expect(changes[0]).toMatchObject({
      resource: { type: 'fee_schedule', id: merchant.id },
      after: { version: 1 },
      actor: { type: 'operator' },
    });
    expect(changes[1]).toMatchObject({ before: { version: 1 }, after: { version: 2 } });
  }, 120_000);
});
