import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRefundResult } from '#app/apply-refund-result.ts';
import { createRefund } from '#app/create-refund.ts';
import { createMerchant } from '#app/merchant-admin.ts';
import { emptySummary, reconcileDay } from '#app/reconcile.ts';
import { billKey, reportKey, runReportKey } from '#domain/buckets.ts';
import type { Merchant } from '#domain/merchant.ts';
import { MerchantClient } from '../../local/merchant-client.ts';
import { type BillRecord, sandboxBill, utf8 } from '../support/bills.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';
import { startHttpStack } from '../support/http-stack.ts';
import { at, line, payAtChannel, pendingPayment, readText, uniqueDate } from '../support/reconcile-fixtures.ts';

// Each run queries every shard of its channel-days (512 from 2026-12-03): minutes on a busy machine, not seconds.
describe('reconcileDay (DynamoDB Local + s3rver)', { timeout: 600_000 }, () => {
  const container = testContainer();
  let merchant: Merchant;

  beforeAll(async () => {
    merchant = (await newMerchant(container)).merchant;
  });

  it('classifies and counts every class, repairs a dropped order exactly once, and re-runs idempotently', async () => {
    const date = uniqueDate();
    const accountId = uniqueId('acct');
    const matched = await pendingPayment(container, merchant, '10.00');
    const amountMismatch = await pendingPayment(container, merchant, '20.00');
    const statusMismatch = await pendingPayment(container, merchant, '30.00');
    const localOnly = await pendingPayment(container, merchant, '40.00');
    const dropped = await pendingPayment(container, merchant, '50.00', accountId);
    for (const [i, payment] of [matched, amountMismatch, statusMismatch, localOnly].entries()) {
      await payAtChannel(container, payment, at(date, 100 + i), true);
    }
    await payAtChannel(container, dropped, at(date, 200), false);
    const bill: BillRecord[] = [
      line(matched, at(date, 100)),
      line(amountMismatch, at(date, 101), { amountMinor: 2001 }),
      line(statusMismatch, at(date, 102), { status: 'CLOSED' }),
      line(dropped, at(date, 200)),
      line(matched, at(date, 300), { gatewayId: `pay_${uniqueId('ghost')}` }),
    ];
    await container.files.putBill(billKey('SANDBOX', date), sandboxBill(bill));

    const first = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(first.status).toBe('COMPLETED');
    expect(first).toMatchObject({ lines: 5, errors: 0, problems: [] });
    expect(first.summary).toEqual({
      matched: 1,
      amount_mismatch: 1,
      status_mismatch: 1,
      local_only: 1,
      channel_only: 2,
      repaired: 1,
      local_total: '100.00', // 10 + 20 + 30 + 40 settled locally before the repair
      channel_total: '90.01', // 10 + 20.01 + 50 + 10 (the ghost); the CLOSED line settled nothing
      fee_total: '0.30',
    });
    const repaired = await container.payments.get(dropped.id);
    expect(repaired?.status).toBe('SUCCEEDED');
    const wallet = await container.wallets.get(merchant.id, accountId, 'CNY');
    expect(wallet.availableMinor).toBe(5000);

    const csv = await readText(container, reportKey(date, 'SANDBOX', 'differences.csv'));
    const rows = csv.trim().split('\n');
    expect(rows).toHaveLength(1 + 5);
    expect(
      rows
        .slice(1)
        .map((row) => row.split(',')[0])
        .sort(),
    ).toEqual(['AMOUNT_MISMATCH', 'CHANNEL_ONLY', 'CHANNEL_ONLY', 'LOCAL_ONLY', 'STATUS_MISMATCH']);
    const header = (rows[0] ?? '').split(',');
    const column = (row: string | undefined, name: string) => row?.split(',')[header.indexOf(name)];
    const repairedRow = rows.find((row) => row.includes(dropped.id));
    expect(column(repairedRow, 'outcome')).toBe('repaired');
    expect(column(repairedRow, 'local_status')).toBe('PENDING'); // the state the day was classified in
    expect(column(repairedRow, 'local_status_after')).toBe('SUCCEEDED');
    expect(column(repairedRow, 'repaired_by_run')).toBe(first.runId);
    expect(
      column(
        rows.find((row) => row.startsWith('CHANNEL_ONLY,NOT_IN_GATEWAY')),
        'outcome',
      ),
    ).toBe('needs_review');
    const summaryJson = JSON.parse(await readText(container, reportKey(date, 'SANDBOX', 'summary.json')));
    expect(summaryJson).toMatchObject({ object: 'reconciliation', status: 'COMPLETED', summary: first.summary });
    expect(first.repairs).toEqual([
      {
        kind: 'PAYMENT',
        gatewayId: dropped.id,
        runId: first.runId,
        at: expect.any(String),
        statusBefore: 'PENDING',
        statusAfter: 'SUCCEEDED',
      },
    ]);

    // Re-runs classify the day identically and still show the repair (made by the first run), repairing nothing.
    const second = await reconcileDay(container, { channel: 'SANDBOX', date });
    const third = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(second.summary).toEqual(first.summary);
    expect(third.summary).toEqual(first.summary);
    expect(third.repairs).toEqual(first.repairs);
    expect(third.runId).not.toBe(first.runId);
    const firstCsv = await readText(container, runReportKey(date, 'SANDBOX', first.runId, 'differences.csv'));
    expect(await readText(container, runReportKey(date, 'SANDBOX', third.runId, 'differences.csv'))).toBe(firstCsv);
    expect(firstCsv).toBe(csv);
    expect((await container.wallets.get(merchant.id, accountId, 'CNY')).availableMinor).toBe(5000);

    // Every run is kept; the latest is the channel-day's.
    expect((await container.reconciliations.getRun(date, 'SANDBOX'))?.runId).toBe(third.runId);
    const runs = await container.reconciliations.listRuns(date, 'SANDBOX', 10);
    expect(runs.map((run) => run.runId)).toEqual([third.runId, second.runId, first.runId]);
    expect((await container.reconciliations.getRun(date, 'SANDBOX', first.runId))?.status).toBe('COMPLETED');
  });

  it('repairs a refund the channel settled through the refund-settlement path exactly once', async () => {
    const date = uniqueDate();
    const accountId = uniqueId('acct');
    const paid = await pendingPayment(container, merchant, '50.00', accountId);
    await payAtChannel(container, paid, at(date, 10), true);
    const { refund } = await createRefund(container, merchant, {
      payment_id: paid.id,
      refund_no: uniqueId('R'),
      amount: '20.00',
    });
    expect(refund.status).toBe('PROCESSING');
    await container.sandboxStore.decideRefund(refund.id, 'SUCCESS'); // its callback is lost
    const bill = [
      line(paid, at(date, 10)),
      line(paid, at(date, 20), { kind: 'REFUND', gatewayId: refund.id, amountMinor: 2000, feeMinor: 0 }),
    ];
    await container.files.putBill(billKey('SANDBOX', date), sandboxBill(bill));

    const first = await reconcileDay(container, { channel: 'SANDBOX', date });
    const second = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(first.summary).toMatchObject({ matched: 1, channel_only: 1, repaired: 1 });
    expect(second.summary).toEqual(first.summary);
    expect(second.repairs).toEqual([
      expect.objectContaining({ kind: 'REFUND', gatewayId: refund.id, runId: first.runId }),
    ]);
    expect((await container.refunds.get(refund.id))?.status).toBe('SUCCEEDED');
    const wallet = await container.wallets.get(merchant.id, accountId, 'CNY');
    expect({ available: wallet.availableMinor, frozen: wallet.frozenMinor }).toEqual({ available: 3000, frozen: 0 });
    expect((await container.payments.get(paid.id))?.refundedMinor).toBe(2000);
  });

  it('reconciles a payment made at 03:30 Beijing time in that Beijing day, not the UTC day before', async () => {
    const date = uniqueDate();
    const dayBefore = new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const early = await pendingPayment(container, merchant, '3.30');
    const unbilled = await pendingPayment(container, merchant, '1.00');
    const paidAt = `${dayBefore}T19:30:00.000Z`; // 03:30 on `date` in Asia/Shanghai
    await payAtChannel(container, early, paidAt, true);
    await payAtChannel(container, unbilled, `${dayBefore}T17:00:00.000Z`, true); // 01:00 on `date` in Shanghai
    await container.files.putBill(billKey('SANDBOX', date), sandboxBill([line(early, paidAt)]));
    await container.files.putBill(billKey('SANDBOX', dayBefore), sandboxBill([]));

    const record = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(record).toMatchObject({
      status: 'COMPLETED',
      timeZone: 'Asia/Shanghai',
      window: { from: `${dayBefore}T16:00:00.000Z`, to: `${date}T16:00:00.000Z` },
    });
    expect(record.summary).toMatchObject({ matched: 1, local_only: 1, local_total: '4.30' });
    const before = await reconcileDay(container, { channel: 'SANDBOX', date: dayBefore });
    expect(before.summary).toMatchObject({ matched: 0, local_only: 0, local_total: '0.00' });
  });

  it('ignores refunds to a wallet: never LOCAL_ONLY (they never reach the channel or its bill)', async () => {
    const date = uniqueDate();
    const sameDay = testContainer({ clock: () => new Date(at(date, 500)) });
    const purchase = await pendingPayment(sameDay, merchant, '10.00');
    const other = await pendingPayment(sameDay, merchant, '20.00');
    await payAtChannel(sameDay, purchase, at(date, 100), true);
    await payAtChannel(sameDay, other, at(date, 101), true);
    const toWallet = await createRefund(sameDay, merchant, {
      payment_id: purchase.id,
      refund_no: uniqueId('W'),
      amount: '4.00',
      destination: 'BALANCE',
      account_id: uniqueId('payer'),
    });
    expect(toWallet.refund).toMatchObject({ status: 'SUCCEEDED', completedAt: at(date, 500) });
    // The control: a channel refund completed the same day that the bill misses IS reported.
    const viaChannel = await createRefund(sameDay, merchant, {
      payment_id: other.id,
      refund_no: uniqueId('R'),
      amount: '5.00',
    });
    await applyRefundResult(sameDay, { refundId: viaChannel.refund.id, status: 'SUCCEEDED' }, 'SANDBOX');
    await sameDay.files.putBill(
      billKey('SANDBOX', date),
      sandboxBill([line(purchase, at(date, 100)), line(other, at(date, 101))]),
    );

    const run = await reconcileDay(sameDay, { channel: 'SANDBOX', date });

    expect(run.summary).toMatchObject({ matched: 2, local_only: 1, channel_only: 0 });
    const csv = await readText(sameDay, reportKey(date, 'SANDBOX', 'differences.csv'));
    expect(csv).toContain(viaChannel.refund.id);
    expect(csv).not.toContain(toWallet.refund.id);
  });

  it('reports MISSING_BILL and alarms when there is no bill but the gateway settled a payment that day', async () => {
    const date = uniqueDate();
    const alarmed: string[] = [];
    const alarming = testContainer({ alarms: { count: (name) => void alarmed.push(name) } });
    const missingBill = () => alarmed.filter((name) => name === 'ReconciliationMissingBill');
    const payment = await pendingPayment(alarming, merchant, '8.00');
    await payAtChannel(alarming, payment, at(date, 3600), true);
    const record = await reconcileDay(alarming, { channel: 'SANDBOX', date });
    expect(record).toMatchObject({ status: 'MISSING_BILL', details: { reason: 'NO_BILL' } });
    expect(record.problems.map((problem) => problem.code)).toEqual(['NO_BILL']);
    expect(missingBill()).toEqual(['ReconciliationMissingBill']);
    expect((await alarming.reconciliations.getRun(date, 'SANDBOX'))?.status).toBe('MISSING_BILL');
    const summaryJson = JSON.parse(await readText(alarming, reportKey(date, 'SANDBOX', 'summary.json')));
    expect(summaryJson).toMatchObject({ status: 'MISSING_BILL', details: { reason: 'NO_BILL' } });
  });

  it('reconciles a day without trades (no bill, nothing settled) as empty: COMPLETED, NO_ACTIVITY, no alarm', async () => {
    const date = uniqueDate();
    const dayAfter = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const alarmed: string[] = [];
    const quiet = testContainer({ alarms: { count: (name) => void alarmed.push(name) } });
    // Paying at the sandbox this far ahead counts LatePaymentSuccess; only the reconciliation's alarm matters here.
    const missingBill = () => alarmed.filter((name) => name === 'ReconciliationMissingBill');
    // Activity on the neighbouring Beijing days only: paid 23:59:59 the day before, 00:00 the day after.
    const before = await pendingPayment(quiet, merchant, '1.00');
    const after = await pendingPayment(quiet, merchant, '2.00');
    await payAtChannel(quiet, before, at(date, -8 * 3600 - 1), true);
    await payAtChannel(quiet, after, at(date, 16 * 3600), true);
    // A payment created that day but never paid holds no settled record.
    await pendingPayment(quiet, merchant, '3.00');

    const record = await reconcileDay(quiet, { channel: 'SANDBOX', date });

    expect(record).toMatchObject({ status: 'COMPLETED', details: { reason: 'NO_ACTIVITY' }, lines: 0, errors: 0 });
    expect(record.problems).toEqual([]);
    expect(record.summary).toEqual(emptySummary());
    expect(missingBill()).toEqual([]);
    expect((await quiet.reconciliations.getRun(date, 'SANDBOX'))?.details).toEqual({ reason: 'NO_ACTIVITY' });
    const summaryJson = JSON.parse(await readText(quiet, reportKey(date, 'SANDBOX', 'summary.json')));
    expect(summaryJson).toMatchObject({ status: 'COMPLETED', details: { reason: 'NO_ACTIVITY' } });
    expect(summaryJson.summary).toEqual(emptySummary());
    const csv = await readText(quiet, reportKey(date, 'SANDBOX', 'differences.csv'));
    expect(csv.trim().split('\n')).toHaveLength(1);
    // The neighbouring day's payment is still missing its bill: that day alarms.
    const next = await reconcileDay(quiet, { channel: 'SANDBOX', date: dayAfter });
    expect(next).toMatchObject({ status: 'MISSING_BILL', details: { reason: 'NO_BILL' } });
    expect(missingBill()).toEqual(['ReconciliationMissingBill']);
  });

  it('reports a malformed line with its line number and goes on', async () => {
    const date = uniqueDate();
    const payment = await pendingPayment(container, merchant, '12.34');
    await payAtChannel(container, payment, at(date, 10), true);
    const good = new TextDecoder().decode(sandboxBill([line(payment, at(date, 10))]));
    const [header, row, trailer] = good.trim().split('\n');
    const text = `${header}\n${row}\nnot,a,valid,line\n${trailer?.replace('#total,1,', '#total,2,')}\n`;
    await container.files.putBill(billKey('SANDBOX', date), utf8(text));
    const record = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(record.status).toBe('COMPLETED');
    expect(record).toMatchObject({ lines: 1, errors: 1 });
    expect(record.summary.matched).toBe(1);
    expect(record.problems[0]?.message).toMatch(/^line 3: /);
    const csv = await readText(container, reportKey(date, 'SANDBOX', 'differences.csv'));
    expect(csv.trim().split('\n')[1]).toMatch(/^ERROR,MALFORMED_LINE,false,,,3,/);
  });

  it('rejects a bill of another day: MISSING_BILL (WRONG_BILL), nothing repaired', async () => {
    const date = uniqueDate();
    const payment = await pendingPayment(container, merchant, '7.00');
    const otherDay = new Date(Date.parse(`${date}T00:00:00Z`) + 3 * 86_400_000).toISOString().slice(0, 10);
    await payAtChannel(container, payment, at(otherDay, 5), false);
    await container.files.putBill(billKey('SANDBOX', date), sandboxBill([line(payment, at(otherDay, 5))]));
    const record = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(record).toMatchObject({ status: 'MISSING_BILL', details: { reason: 'WRONG_BILL' } });
    expect(record.problems.map((problem) => problem.code)).toContain('WRONG_DATE');
    expect(record.summary.repaired).toBe(0);
    expect((await container.payments.get(payment.id))?.status).toBe('PENDING');
  });

  it('lists the problem of a refused bill once', async () => {
    const date = uniqueDate();
    await container.files.putBill(billKey('SANDBOX', date), utf8('this,is,not\na,sandbox,bill\n'));
    const record = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(record).toMatchObject({ status: 'MISSING_BILL', details: { reason: 'WRONG_BILL' } });
    expect(record.problems.map((problem) => problem.code)).toEqual(['UNRECOGNIZED_FORMAT']);
  });
});

describe('GET /v1/reconciliations/{date} over HTTP', () => {
  const financeId = uniqueId('mch');
  let stack: Awaited<ReturnType<typeof startHttpStack>>;
  let finance: MerchantClient;

  beforeAll(async () => {
    process.env.FINANCE_MERCHANT_IDS = `someone_else, ${financeId}`;
    stack = await startHttpStack();
    const { secret } = await createMerchant(stack.container, { id: financeId, name: 'Finance' });
    finance = new MerchantClient({ apiBase: stack.apiBase, merchantId: financeId, merchantSecret: secret });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('gives a finance merchant the summary and a presigned URL that downloads; 404 for anyone else', async () => {
    const date = uniqueDate();
    await stack.container.files.putBill(billKey('SANDBOX', date), sandboxBill([]));
    const record = await reconcileDay(stack.container, { channel: 'SANDBOX', date });

    const response = await finance.request('GET', `/v1/reconciliations/${date}?channel=SANDBOX`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      object: 'reconciliation',
      date,
      channel: 'SANDBOX',
      status: 'COMPLETED',
      summary: record.summary,
    });
    const download = await fetch(String(response.body.report_url));
    expect(download.status).toBe(200);
    expect((await download.text()).startsWith('class,reason,')).toBe(true);
    expect(response.body).toMatchObject({ run_id: record.runId, time_zone: 'Asia/Shanghai', repairs: [] });

    const rerun = await reconcileDay(stack.container, { channel: 'SANDBOX', date });
    const latest = await finance.request('GET', `/v1/reconciliations/${date}?channel=SANDBOX`);
    expect(latest.body).toMatchObject({ run_id: rerun.runId });
    expect((latest.body.runs as { run_id: string }[]).map((run) => run.run_id)).toEqual([rerun.runId, record.runId]);
    const earlier = await finance.request('GET', `/v1/reconciliations/${date}?channel=SANDBOX&run_id=${record.runId}`);
    expect(earlier.body).toMatchObject({ run_id: record.runId, status: 'COMPLETED' });
    const summaryUrl = (earlier.body.report_urls as Record<string, string>)['summary.json'];
    expect(JSON.parse(await (await fetch(String(summaryUrl))).text())).toMatchObject({ run_id: record.runId });
    const badRun = await finance.request('GET', `/v1/reconciliations/${date}?channel=SANDBOX&run_id=nope`);
    expect(badRun.status).toBe(400);

    const never = await finance.request('GET', `/v1/reconciliations/${uniqueDate()}?channel=SANDBOX`);
    expect(never.status).toBe(404);
    const invalid = await finance.request('GET', `/v1/reconciliations/2024-02-30?channel=SANDBOX`);
    expect(invalid.status).toBe(400);
    const badChannel = await finance.request('GET', `/v1/reconciliations/${date}?channel=BALANCE`);
    expect(badChannel.status).toBe(400);

    const { client } = await stack.newClient();
    const other = await client.request('GET', `/v1/reconciliations/${date}?channel=SANDBOX`);
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
