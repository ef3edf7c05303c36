import { randomInt } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxBillSource } from '#adapters/channels/sandbox-bill-source.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { fetchBill, storeBill, unpackBillArchive } from '#app/bill-intake.ts';
import { createPayment } from '#app/create-payment.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { reconcileDay } from '#app/reconcile.ts';
import { parseInput } from '#app/validation.ts';
import { billArchiveKey, billKey, billOriginalKey } from '#domain/buckets.ts';
import { SHANGHAI } from '#domain/business-day.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import { createBuckets, type LocalS3, startLocalS3 } from '../../local/s3.ts';
import { alipayBill, type BillRecord, encodeGbk, wechatPayBill } from '../support/bills.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';
import { payAtChannel } from '../support/reconcile-fixtures.ts';

/** A business day no other test uses (the buckets are shared, keys are per channel-day). */
function uniqueDate(): string {
  return new Date(Date.UTC(2300 + randomInt(600), 0, 1 + randomInt(365))).toISOString().slice(0, 10);
}

/** `second` seconds into the Asia/Shanghai business day `date`. */
const inDay = (date: string, second: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) - 8 * 3_600_000 + second * 1000).toISOString();

describe('bill intake (DynamoDB Local + s3rver)', () => {
  const container = testContainer();
  let merchant: Merchant;

  beforeAll(async () => {
    merchant = (await newMerchant(container)).merchant;
  });

  async function pendingPayment(amount: string): Promise<Payment> {
    const body = parseInput(createPaymentSchema({ allowLoopbackHttp: false }), {
      order_no: uniqueId('O'),
      amount,
      subject: 'intake',
      channel: 'SANDBOX',
    });
    return (await createPayment(container, merchant, body)).payment as Payment;
  }

  it('publishes the sandbox bill of a finished day from its own records and reconciles it end to end', async () => {
    const date = uniqueDate();
    const to = inDay(date, 86_400);
    const notOver = new SandboxBillSource(container.sandboxStore, SHANGHAI, () => new Date(Date.parse(to) - 1));
    const over = new SandboxBillSource(container.sandboxStore, SHANGHAI, () => new Date(to));
    const delivered = await pendingPayment('12.00');
    const dropped = await pendingPayment('8.00');
    await payAtChannel(container, delivered, inDay(date, 60), false);
    await payAtChannel(container, dropped, inDay(date, 120), false); // its callback is lost
    const result = await container.channels.get('SANDBOX')?.queryPayment(delivered);
    if (!result) throw new Error('the sandbox should report the payment');
    await applyPaymentResult(container, result, 'SANDBOX');

    const early = await fetchBill(
      { ...container, sources: new Map([['SANDBOX', notOver]]) },
      { channel: 'SANDBOX', date },
    );
    expect(early.status).toBe('NOT_READY');
    expect(await container.files.headBill(billKey('SANDBOX', date))).toBeUndefined();

    const sources = new Map([['SANDBOX' as const, over]]);
    expect(await fetchBill({ ...container, sources }, { channel: 'SANDBOX', date })).toMatchObject({
      status: 'STORED',
      key: billKey('SANDBOX', date),
      lines: 2,
      errors: 0,
    });
    expect(await fetchBill({ ...container, sources }, { channel: 'SANDBOX', date })).toMatchObject({
      status: 'PRESENT',
    });

    const record = await reconcileDay(container, { channel: 'SANDBOX', date });
    expect(record.status).toBe('COMPLETED');
    expect(record.summary).toMatchObject({
      matched: 1,
      channel_only: 1,
      repaired: 1,
      channel_total: '20.00',
      fee_total: '0.12', // 0.60 % of 12.00 and of 8.00 (0.072 + 0.048, each rounded half up)
    });
    expect((await container.payments.get(dropped.id))?.status).toBe('SUCCEEDED');
  });

  function alipayRecords(date: string): BillRecord[] {
    return [1, 2].map((i) => ({
      kind: 'PAYMENT',
      gatewayId: `pay_${uniqueId('zip')}`,
      paymentId: '',
      channelTradeNo: `2026${String(i).padStart(24, '0')}`,
      amountMinor: 1000 * i,
      feeMinor: 6 * i,
      status: 'SUCCESS',
      occurredAt: inDay(date, 3600 * i),
      subject: '会员充值',
    }));
  }

  function alipayZip(records: BillRecord[], date: string): Uint8Array {
    const fixed = records.map((record) => ({ ...record, paymentId: record.gatewayId }));
    return zipSync({
      '20880000000000000156_20261202_业务明细.csv': alipayBill(fixed, date),
      '20880000000000000156_20261202_业务明细(汇总).csv': encodeGbk('#支付宝业务汇总查询\r\n'),
    });
  }

  it('unpacks a zipped Alipay bill uploaded by hand, keeps the archive, and reconciles the CSV', async () => {
    const date = uniqueDate();
    await container.files.putBill(billArchiveKey('ALIPAY', date), alipayZip(alipayRecords(date), date));
    expect(await unpackBillArchive(container, { channel: 'ALIPAY', date })).toMatchObject({
      status: 'STORED',
      lines: 2,
    });
    expect(await container.files.headBill(billArchiveKey('ALIPAY', date))).toBeDefined();
    const record = await reconcileDay(container, { channel: 'ALIPAY', date });
    expect(record).toMatchObject({ status: 'COMPLETED', lines: 2, errors: 0 });
    expect(record.summary).toMatchObject({ channel_only: 2, channel_total: '30.00', fee_total: '0.18' });
  });

  it('keeps a downloaded archive beside the CSV it stores', async () => {
    const date = uniqueDate();
    const bytes = alipayZip(alipayRecords(date), date);
    const intake = await storeBill(container, { channel: 'ALIPAY', date, bytes, archive: true, original: 'keep' });
    expect(intake.status).toBe('STORED');
    expect((await container.files.headBill(billOriginalKey('ALIPAY', date)))?.size).toBe(bytes.byteLength);
  });

  it('refuses a bill that is not the channel-day’s and stores nothing', async () => {
    const date = uniqueDate();
    const wechat = wechatPayBill(alipayRecords(date).map((record) => ({ ...record, paymentId: record.gatewayId })));
    const intake = await storeBill(container, {
      channel: 'ALIPAY',
      date,
      bytes: wechat,
      archive: false,
      original: 'keep',
    });
    expect(intake).toEqual({
      status: 'REFUSED',
      problems: [{ code: 'WRONG_CHANNEL', message: 'a WECHAT_PAY bill, not a ALIPAY one' }],
    });
    const junk = await storeBill(container, {
      channel: 'ALIPAY',
      date,
      bytes: new Uint8Array([1, 2, 3]),
      archive: true,
      original: 'keep',
    });
    expect(junk).toMatchObject({ status: 'REFUSED', problems: [{ code: 'UNREADABLE_ARCHIVE' }] });
    expect(await container.files.headBill(billKey('ALIPAY', date))).toBeUndefined();
  });
});

describe('local S3 upload notifications', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startLocalS3();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('tells a listener of every object created, as an S3 notification would', async () => {
    const created: string[] = [];
    s3.onObjectCreated((bucket, key) => created.push(`${bucket}/${key}`));
    const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' });
    await createBuckets(client, ['pay-gateway-bills-local']);
    await client.send(
      new PutObjectCommand({ Bucket: 'pay-gateway-bills-local', Key: 'bills/ALIPAY/2026-12-02.csv.zip', Body: 'zip' }),
    );
    client.destroy();
    await expect.poll(() => created).toEqual(['pay-gateway-bills-local/bills/ALIPAY/2026-12-02.csv.zip']);
  });
});
