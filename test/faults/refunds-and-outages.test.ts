import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createContainer } from '#adapters/container.ts';
import { reconcileDay } from '#app/reconcile.ts';
import { billKey } from '#domain/buckets.ts';
import { businessDayOf } from '#domain/business-day.ts';
import { loadConfig } from '#shared/config.ts';
import { createBuckets, LOCAL_BUCKETS, startLocalS3 } from '../../local/s3.ts';
import { alipayBill, type BillRecord } from '../support/bills.ts';
import { uniqueId } from '../support/fixtures.ts';
import { type FaultStack, startFaultStack } from './support/fault-stack.ts';
import type { Fault } from './support/faults.ts';
import { assertInvariants, notificationsSettled, sweep } from './support/invariants.ts';

type Json = Record<string, unknown>;

let stack: FaultStack;

beforeAll(async () => {
  // An SQS server of its own: the outage tests stop and restart it.
  stack = await startFaultStack({});
});
afterAll(() => stack?.stop());

/** After every injected crash or outage: the timers' work, the notifications, then every invariant. */
afterEach(async () => {
  await sweep(stack);
  await notificationsSettled(stack);
  await assertInvariants(stack);
});

const refundFault = (at: 'before-commit' | 'after-commit', refundNo: string, status: string) =>
  ({ at, entity: 'REFUND', field: 'refundNo', value: refundNo, status }) satisfies Fault;
const refundBody = (paymentId: string, amount: string) => ({ payment_id: paymentId, refund_no: uniqueId('R'), amount });
const balanceOf = async (accountId: string) =>
  (await stack.client.request<Json>('GET', `/v1/accounts/${accountId}/balance?currency=CNY`)).body;

describe('refund of a recharge (Alipay refunds synchronously)', () => {
  it('dies after the Try commit, before the channel heard of it: the status sync resubmits it, settled once', async () => {
    const { id, accountId } = await stack.paidRecharge('30.00');
    const body = refundBody(id, '30.00');
    const fault = refundFault('after-commit', body.refund_no, 'PROCESSING');
    expect(await stack.crashDuring(fault, () => stack.client.request('POST', '/v1/refunds', body))).toBe(
      'connection lost',
    );
    // The money is held (frozen), the channel never received the refund, and a retry only replays it PROCESSING.
    expect(stack.channels.alipay.server.trades.get(id)?.refundedFen).toBe(0);
    expect(await balanceOf(accountId)).toMatchObject({ available: '0.00', frozen: '30.00' });
    const retried = await stack.requestUntilAnswered('POST', '/v1/refunds', body);
    expect(retried).toMatchObject({ status: 200, body: { status: 'PROCESSING' } });

    expect(await sweep(stack)).toBeGreaterThanOrEqual(1);
    const refund = await stack.client.request<Json>('GET', `/v1/refunds/${retried.body.id}`);
    expect(refund.body).toMatchObject({ status: 'SUCCEEDED' });
    expect(stack.channels.alipay.server.trades.get(id)?.refundedFen).toBe(3000);
    expect(await balanceOf(accountId)).toMatchObject({ available: '0.00', frozen: '0.00' });
  });

  it('dies after Alipay refunded, before the Confirm commit: the retry finds it PROCESSING, a GET settles it once', async () => {
    const { id, accountId } = await stack.paidRecharge('50.00');
    const body = refundBody(id, '20.00');
    const fault = refundFault('before-commit', body.refund_no, 'SUCCEEDED');
    expect(await stack.crashDuring(fault, () => stack.client.request('POST', '/v1/refunds', body))).toBe(
      'connection lost',
    );
    expect(stack.channels.alipay.server.trades.get(id)?.refundedFen).toBe(2000);
    expect(await balanceOf(accountId)).toMatchObject({ available: '30.00', frozen: '20.00' });

    const retried = await stack.requestUntilAnswered('POST', '/v1/refunds', body);
    expect(retried).toMatchObject({ status: 200, body: { status: 'PROCESSING' } });
    const settled = await stack.requestUntilAnswered('GET', `/v1/refunds/${retried.body.id}`);
    expect(settled.body).toMatchObject({ status: 'SUCCEEDED' });
    expect(await balanceOf(accountId)).toMatchObject({ available: '30.00', frozen: '0.00' });
  });

  it('dies after the Confirm commit, before the response: the retry replays the SUCCEEDED refund', async () => {
    const { id, accountId } = await stack.paidRecharge('40.00');
    const body = refundBody(id, '40.00');
    const fault = refundFault('after-commit', body.refund_no, 'SUCCEEDED');
    expect(await stack.crashDuring(fault, () => stack.client.request('POST', '/v1/refunds', body))).toBe(
      'connection lost',
    );
    const retried = await stack.requestUntilAnswered('POST', '/v1/refunds', body);
    expect(retried).toMatchObject({ status: 200, body: { status: 'SUCCEEDED', amount: '40.00' } });
    expect(await balanceOf(accountId)).toMatchObject({ available: '0.00', frozen: '0.00' });
    expect((await stack.container.payments.get(id))?.status).toBe('REFUNDED');
  });
});

describe('emulator outages mid-run', () => {
  it('local SQS stops while payments are paid: commits go on, the relay holds its place, all delivered after', async () => {
    await notificationsSettled(stack);
    const deliveredBefore = stack.merchant.received.size;
    const accounts: string[] = [];
    await stack.sqsOutage(async () => {
      for (const amount of ['1.00', '2.00', '3.00']) accounts.push((await stack.paidRecharge(amount)).accountId);
      // Committed and credited while the queue is down; nothing can have been delivered.
      expect(await balanceOf(accounts[2] ?? '')).toMatchObject({ available: '3.00' });
      expect(stack.merchant.received.size).toBe(deliveredBefore);
    });
    await notificationsSettled(stack);
    for (const [index, accountId] of accounts.entries()) {
      expect(await balanceOf(accountId)).toMatchObject({ available: `${index + 1}.00`, frozen: '0.00' });
    }
  });

  it('local S3 stops mid-run: the money path goes on without it; the bill and its reconciliation wait, then match', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'fault-s3-'));
    let s3 = await startLocalS3({ directory });
    const port = Number(new URL(s3.endpoint).port);
    const saved = {
      AWS_ENDPOINT_URL_S3: process.env.AWS_ENDPOINT_URL_S3,
      BILLS_BUCKET: process.env.BILLS_BUCKET,
      REPORTS_BUCKET: process.env.REPORTS_BUCKET,
    };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      BILLS_BUCKET: LOCAL_BUCKETS.bills,
      REPORTS_BUCKET: LOCAL_BUCKETS.reports,
    });
    try {
      const files = { ...createContainer(loadConfig()), workflows: stack.container.workflows };
      const client = new S3Client({ forcePathStyle: true });
      await createBuckets(client, Object.values(LOCAL_BUCKETS));
      client.destroy();
      await s3.stop();
      // No S3 on the money path: recharges are paid, credited and notified while it is down.
      for (const amount of ['4.00', '5.00']) await stack.paidRecharge(amount);
      const bills = await alipayBills();
      const [date, bill] = [...bills][0] ?? [];
      if (!date || !bill) throw new Error('no bill day');
      await expect(files.files.putBill(billKey('ALIPAY', date), bill)).rejects.toThrow();

      s3 = await startLocalS3({ directory, port });
      for (const [day, bytes] of bills) {
        await files.files.putBill(billKey('ALIPAY', day), bytes);
        const run = await reconcileDay(files, { channel: 'ALIPAY', date: day });
        expect(run).toMatchObject({ status: 'COMPLETED', errors: 0, problems: [] });
        expect(run.summary).toMatchObject({ amount_mismatch: 0, status_mismatch: 0, local_only: 0, channel_only: 0 });
      }
    } finally {
      await s3.stop();
      await rm(directory, { recursive: true, force: true });
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

/** Alipay's trade bill of every business day (Asia/Shanghai) the stack's paid trades and refunds fall on. */
async function alipayBills(): Promise<Map<string, Uint8Array>> {
  const records: BillRecord[] = [];
  for (const trade of stack.channels.alipay.server.trades.values()) {
    if (!trade.paidAt) continue;
    const payment = await stack.container.payments.get(trade.outTradeNo);
    if (!payment) continue;
    const common = { paymentId: payment.id, channelTradeNo: trade.tradeNo, feeMinor: 0, subject: trade.subject };
    records.push({
      ...common,
      kind: 'PAYMENT',
      gatewayId: payment.id,
      amountMinor: payment.amountMinor,
      status: 'SUCCESS',
      occurredAt: trade.paidAt.toISOString(),
    });
    for (const [refundId, refund] of trade.refunds) {
      const amountMinor = Math.round(Number(refund.refundAmount) * 100);
      records.push({
        ...common,
        kind: 'REFUND',
        gatewayId: refundId,
        amountMinor,
        status: 'SUCCESS',
        occurredAt: refund.at.toISOString(),
      });
    }
  }
  const byDay = new Map<string, BillRecord[]>();
  for (const record of records) {
    const day = businessDayOf('Asia/Shanghai', record.occurredAt);
    byDay.set(day, [...(byDay.get(day) ?? []), record]);
  }
  return new Map([...byDay].map(([day, lines]) => [day, alipayBill(lines, day)]));
}
