import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '#adapters/container.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { fetchBill, runBillJob } from '#app/bill-intake.ts';
import { createPayment } from '#app/create-payment.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import type { AlarmMetrics } from '#app/ports.ts';
import { reconcileDay } from '#app/reconcile.ts';
import { parseInput } from '#app/validation.ts';
import { billKey, billOriginalKey, reportKey } from '#domain/buckets.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import { channelTable } from '../support/channel-table.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';
import { configureRealChannels, type LocalChannels, startLocalChannels } from '../support/real-channels.ts';

/** A business day no other test uses (the buckets are shared, bill keys are per channel-day). */
function uniqueDate(): string {
  return new Date(Date.UTC(2300 + randomInt(600), 0, 1 + randomInt(365))).toISOString().slice(0, 10);
}

/** `second` seconds into the Asia/Shanghai business day `date`. */
const inDay = (date: string, second: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) - 8 * 3_600_000 + second * 1000);

/**
 * Bills downloaded from the local Alipay and WeChat Pay protocol servers through the gateway's signed clients, stored
 * in local S3 and reconciled against DynamoDB Local. Channel profiles are keyed by channel code, so the file has a
 * table of its own.
 */
describe('bill downloads from the channels (local Alipay / WeChat Pay servers, DynamoDB Local, s3rver)', () => {
  const saved = { TABLE_NAME: process.env.TABLE_NAME, CHANNEL_SECRETS_DIR: process.env.CHANNEL_SECRETS_DIR };
  let table: Awaited<ReturnType<typeof channelTable>>;
  let secretsDir: string;
  let channels: LocalChannels;
  let container: Container;
  let merchant: Merchant;
  const counted: string[] = [];

  beforeAll(async () => {
    table = await channelTable();
    secretsDir = mkdtempSync(join(tmpdir(), 'bill-downloads-'));
    process.env.TABLE_NAME = table.tableName;
    process.env.CHANNEL_SECRETS_DIR = secretsDir;
    channels = await startLocalChannels();
    await configureRealChannels({
      db: table.db,
      tableName: table.tableName,
      secretsDir,
      apiBase: 'http://127.0.0.1:9',
      channels,
      weights: { ALIPAY: 1, WECHAT_PAY: 1 },
    });
    const alarms: AlarmMetrics = { count: (name) => void counted.push(name) };
    container = testContainer({ alarms });
    merchant = (await newMerchant(container)).merchant;
  });

  afterAll(async () => {
    await channels?.stop();
    await table?.drop();
    rmSync(secretsDir, { recursive: true, force: true });
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  async function payment(channel: 'ALIPAY' | 'WECHAT_PAY', amount: string): Promise<Payment> {
    const body = parseInput(createPaymentSchema({ allowLoopbackHttp: false }), {
      order_no: uniqueId('O'),
      amount,
      subject: '账单下载',
      channel,
      method: 'QR',
    });
    return (await createPayment(container, merchant, body)).payment as Payment;
  }

  /** The buyer pays at the channel at `at`; `apply` also records it in the gateway (its callback arrived). */
  async function paidAtChannel(channel: 'ALIPAY' | 'WECHAT_PAY', paid: Payment, at: Date, apply: boolean) {
    if (channel === 'ALIPAY') channels.alipay.server.pay(paid.id, at);
    else channels.wechat.server.pay(paid.id.slice('pay_'.length), at);
    if (!apply) return;
    const result = await container.channels.get(channel)?.queryPayment(paid);
    if (!result) throw new Error(`${channel} should report the payment`);
    await applyPaymentResult(container, result, channel);
  }

  it.each([
    ['ALIPAY', 'isp.bill_not_exist'],
    ['WECHAT_PAY', 'NO_STATEMENT_EXIST'],
  ] as const)(
    '%s: not ready (%s), then downloaded → stored → reconciled → reported, a dropped order repaired',
    async (channel, notReady) => {
      const date = uniqueDate();
      const failures = counted.filter((name) => name === 'BillDownloadFailed').length;
      const delivered = await payment(channel, '12.00');
      const dropped = await payment(channel, '8.00');
      await paidAtChannel(channel, delivered, inDay(date, 60), true);
      await paidAtChannel(channel, dropped, inDay(date, 120), false); // its callback is lost

      // Not built yet: the schedule asks again next hour; nothing stored, nothing alarmed.
      const early = await runBillJob(container, { channel, date, archive: false });
      expect(early).toEqual({
        status: 'NOT_READY',
        reason: `${channel === 'ALIPAY' ? 'Alipay' : 'WeChat Pay'}: ${notReady}`,
      });
      expect(await container.files.headBill(billKey(channel, date))).toBeUndefined();

      (channel === 'ALIPAY' ? channels.alipay.server : channels.wechat.server).publishBill(date);
      const stored = await runBillJob(container, { channel, date, archive: false });
      expect(stored).toEqual({ status: 'STORED', key: billKey(channel, date), lines: 2, errors: 0 });
      // Alipay's archive is kept beside the CSV unpacked from it; WeChat Pay's file is the CSV itself.
      const original = await container.files.headBill(billOriginalKey(channel, date));
      if (channel === 'ALIPAY') expect(original?.size).toBeGreaterThan(0);
      else expect(original).toBeUndefined();
      // Stored once: the next scheduled run leaves it alone.
      expect(await runBillJob(container, { channel, date, archive: false })).toMatchObject({ status: 'PRESENT' });

      const record = await reconcileDay(container, { channel, date });
      expect(record).toMatchObject({ status: 'COMPLETED', lines: 2, errors: 0 });
      expect(record.summary).toMatchObject({
        matched: 1,
        channel_only: 1,
        repaired: 1,
        channel_total: '20.00',
        fee_total: '0.12', // 0.6 % of 12.00 and of 8.00, each rounded half up to the fen
      });
      expect((await container.payments.get(dropped.id))?.status).toBe('SUCCEEDED');
      expect(await container.files.headReport(reportKey(date, channel, 'differences.csv'))).toBeDefined();
      expect(counted.filter((name) => name === 'BillDownloadFailed').length).toBe(failures);
    },
  );

  it('WeChat Pay: a bill still being built (STATEMENT_CREATING) is not ready; the same day is stored once it is', async () => {
    const date = uniqueDate();
    await paidAtChannel('WECHAT_PAY', await payment('WECHAT_PAY', '5.00'), inDay(date, 600), true);
    channels.wechat.server.publishBill(date);
    channels.wechat.server.behaviours.tradeBill = {
      businessError: { status: 400, code: 'STATEMENT_CREATING', message: '账单生成中' },
    };
    expect(await fetchBill(container, { channel: 'WECHAT_PAY', date })).toEqual({
      status: 'NOT_READY',
      reason: 'WeChat Pay: STATEMENT_CREATING',
    });
    delete channels.wechat.server.behaviours.tradeBill;
    expect(await fetchBill(container, { channel: 'WECHAT_PAY', date })).toMatchObject({ status: 'STORED', lines: 1 });
  });

  it('WeChat Pay: a file that does not match the announced SHA1 is refused, stored nowhere, and alarmed', async () => {
    const date = uniqueDate();
    await paidAtChannel('WECHAT_PAY', await payment('WECHAT_PAY', '7.00'), inDay(date, 900), true);
    channels.wechat.server.publishBill(date);
    channels.wechat.server.behaviours.billDownload = 'wrongHash';
    try {
      await expect(fetchBill(container, { channel: 'WECHAT_PAY', date })).rejects.toThrow(/hash_value/);
      const before = counted.filter((name) => name === 'BillDownloadFailed').length;
      const job = await runBillJob(container, { channel: 'WECHAT_PAY', date, archive: false });
      expect(job).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/hash_value/) });
      expect(counted.filter((name) => name === 'BillDownloadFailed').length).toBe(before + 1);
      expect(await container.files.headBill(billKey('WECHAT_PAY', date))).toBeUndefined();
    } finally {
      delete channels.wechat.server.behaviours.billDownload;
    }
    // The next run downloads the genuine file.
    expect(await fetchBill(container, { channel: 'WECHAT_PAY', date })).toMatchObject({ status: 'STORED', lines: 1 });
  });

  it('Alipay: another business failure is not "not ready": it fails and is alarmed', async () => {
    const date = uniqueDate();
    channels.alipay.server.behaviours['alipay.data.dataservice.bill.downloadurl.query'] = {
      kind: 'business-error',
      code: '40004',
      subCode: 'isv.invalid_arguments',
    };
    try {
      const before = counted.filter((name) => name === 'BillDownloadFailed').length;
      const job = await runBillJob(container, { channel: 'ALIPAY', date, archive: false });
      expect(job).toMatchObject({ status: 'FAILED', reason: expect.stringContaining('isv.invalid_arguments') });
      expect(counted.filter((name) => name === 'BillDownloadFailed').length).toBe(before + 1);
    } finally {
      delete channels.alipay.server.behaviours['alipay.data.dataservice.bill.downloadurl.query'];
    }
  });
});
