import { randomBytes, randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { createS3Client, S3Files } from '#adapters/aws/s3-files.ts';
import {
  BILLS_BUCKET,
  billKey,
  isCalendarDate,
  parseBillKey,
  REPORT_FILES,
  REPORTS_BUCKET,
  reportKey,
} from '#domain/buckets.ts';
import { loadConfig } from '#shared/config.ts';
import { TEST_BUCKETS } from '../support/constants.ts';

// The run's s3rver and test buckets (global setup), addressed the way the gateway's functions address them: the
// endpoint from AWS_ENDPOINT_URL_S3, the bucket names from BILLS_BUCKET / REPORTS_BUCKET.
const config = loadConfig();
const files = new S3Files({ bills: config.billsBucket, reports: config.reportsBucket });

/** A day no other test file uses: both workers share the run's buckets, and keys are per channel-day. */
function uniqueDate(): string {
  const day = new Date(Date.UTC(2200 + randomInt(700), 0, 1 + randomInt(365)));
  return day.toISOString().slice(0, 10);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<{ chunks: number[]; bytes: Buffer }> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return { chunks: parts.map((part) => part.byteLength), bytes: Buffer.concat(parts) };
}

describe('bucket definitions', () => {
  it('builds bill keys as bills/{CHANNEL}/{YYYY-MM-DD}.csv and parses them back', () => {
    expect(billKey('ALIPAY', '2024-03-01')).toBe('bills/ALIPAY/2024-03-01.csv');
    expect(billKey('WECHAT_PAY', '2024-12-31')).toBe('bills/WECHAT_PAY/2024-12-31.csv');
    expect(parseBillKey('bills/WECHAT_PAY/2024-12-31.csv')).toEqual({
      channel: 'WECHAT_PAY',
      date: '2024-12-31',
      archive: false,
    });
    expect(parseBillKey('bills/ALIPAY/2024-12-31.csv.zip')).toEqual({
      channel: 'ALIPAY',
      date: '2024-12-31',
      archive: true,
    });
    expect(parseBillKey('bills/ALIPAY/2024-12-31.original.zip')).toBeUndefined();
    expect(parseBillKey('bills/WECHAT_PAY/2024-02-30.csv')).toBeUndefined();
    expect(parseBillKey('bills/NOPE/2024-01-01.csv')).toBeUndefined();
    expect(parseBillKey('reports/2024-01-01/ALIPAY/summary.json')).toBeUndefined();
  });

  it('builds report keys as reports/{YYYY-MM-DD}/{CHANNEL}/{file}', () => {
    expect(reportKey('2024-03-01', 'ALIPAY', 'summary.json')).toBe('reports/2024-03-01/ALIPAY/summary.json');
    expect(reportKey('2024-03-01', 'WECHAT_PAY', 'differences.csv')).toBe(
      'reports/2024-03-01/WECHAT_PAY/differences.csv',
    );
    expect(Object.keys(REPORT_FILES)).toEqual(['summary.json', 'differences.csv', 'settlement.csv']);
  });

  it('rejects anything that is not a known channel and a calendar date, so input cannot address another key', () => {
    for (const date of ['2024-02-30', '2023-02-29', '2024-13-01', '24-01-01', '2024-1-1', '../2024-01-01', '']) {
      expect(isCalendarDate(date), date).toBe(false);
      expect(() => billKey('ALIPAY', date), date).toThrow(/YYYY-MM-DD/);
      expect(() => reportKey(date, 'ALIPAY', 'summary.json'), date).toThrow(/YYYY-MM-DD/);
    }
    expect(isCalendarDate('2024-02-29')).toBe(true);
    // Request input reaches these as strings before it is validated; the builders check at run time too.
    const channel = '../ALIPAY' as 'ALIPAY';
    expect(() => billKey(channel, '2024-01-01')).toThrow(/unknown channel/);
    expect(() => reportKey('2024-01-01', channel, 'summary.json')).toThrow(/unknown channel/);
    expect(() => reportKey('2024-01-01', 'ALIPAY', '../x' as 'summary.json')).toThrow(/unknown report file/);
  });

  it('keys every bill and report under the prefix its lifecycle rule is scoped to', () => {
    expect(billKey('ALIPAY', '2024-03-01').startsWith(BILLS_BUCKET.keyPrefix)).toBe(true);
    expect(reportKey('2024-03-01', 'ALIPAY', 'differences.csv').startsWith(REPORTS_BUCKET.keyPrefix)).toBe(true);
  });
});

describe('S3 files on the local S3', () => {
  it('uses path-style addressing exactly when an S3 endpoint is configured', async () => {
    expect(config.billsBucket).toBe(TEST_BUCKETS.bills);
    expect(config.reportsBucket).toBe(TEST_BUCKETS.reports);
    expect(createS3Client({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' }).config.forcePathStyle).toBe(true);
    expect(createS3Client({}).config.forcePathStyle).toBe(false);
  });

  it('streams a multi-MB bill in several chunks whose bytes reassemble to the original', async () => {
    const key = billKey('ALIPAY', uniqueDate());
    // Arbitrary bytes, not text: Alipay bills are GBK, so the adapter must hand out bytes untouched.
    const original = randomBytes(5 * 1024 * 1024 + 123);
    await files.putBill(key, original);

    const stream = await files.openBill(key);
    if (!stream) throw new Error('the bill just written is missing');
    const { chunks, bytes } = await collect(stream);

    expect(chunks.length).toBeGreaterThan(1);
    expect(Math.max(...chunks)).toBeLessThan(original.length);
    expect(bytes.equals(original)).toBe(true);
    expect(await files.headBill(key)).toEqual({ size: original.length, lastModified: expect.any(Date) });
  });

  it('closes the response when the reader stops early, and the bill can be read again', async () => {
    const key = billKey('WECHAT_PAY', uniqueDate());
    const original = randomBytes(2 * 1024 * 1024);
    await files.putBill(key, original);

    const stream = await files.openBill(key);
    if (!stream) throw new Error('the bill just written is missing');
    for await (const chunk of stream) {
      expect(chunk.byteLength).toBeGreaterThan(0);
      break;
    }
    // Leaving the loop aborts the request: the response closes without having been read to its end.
    await expect(finished(stream as Readable)).rejects.toThrow();
    expect((stream as Readable).destroyed).toBe(true);

    const again = await files.openBill(key);
    if (!again) throw new Error('the bill is missing on the second read');
    expect((await collect(again)).bytes.equals(original)).toBe(true);
  });

  it('stores a text bill with its content type and returns the exact UTF-8 bytes', async () => {
    const key = billKey('SANDBOX', uniqueDate());
    const csv = 'trade_no,amount,备注\nT1,100.00,测试\n';
    await files.putBill(key, csv);
    const stream = await files.openBill(key);
    if (!stream) throw new Error('the bill just written is missing');
    expect((await collect(stream)).bytes.toString('utf8')).toBe(csv);
  });

  it('answers undefined for a bill that does not exist (the caller reports MISSING_BILL)', async () => {
    const key = billKey('ALIPAY', uniqueDate());
    expect(await files.openBill(key)).toBeUndefined();
    expect(await files.headBill(key)).toBeUndefined();
  });

  it('throws, rather than answer "no bill", when the bucket itself is missing or not configured', async () => {
    const key = billKey('ALIPAY', uniqueDate());
    const wrongBucket = new S3Files({ bills: 'pay-gateway-no-such-bucket' });
    await expect(wrongBucket.openBill(key)).rejects.toMatchObject({ name: 'NoSuchBucket' });
    const unconfigured = new S3Files({});
    await expect(unconfigured.openBill(key)).rejects.toThrow(/no BILLS_BUCKET/);
    await expect(unconfigured.putReport('reports/x', 'x', 'text/plain')).rejects.toThrow(/no REPORTS_BUCKET/);
    await expect(unconfigured.presignReport('reports/x')).rejects.toThrow(/no REPORTS_BUCKET/);
  });

  it('hands out a 15-minute presigned URL that downloads the report with a plain fetch', async () => {
    const date = uniqueDate();
    const summaryKey = reportKey(date, 'ALIPAY', 'summary.json');
    const differencesKey = reportKey(date, 'ALIPAY', 'differences.csv');
    const summary = JSON.stringify({ date, channel: 'ALIPAY', matched: 3, differences: 1 });
    const differences = 'kind,trade_no,gateway_minor,channel_minor\nAMOUNT_MISMATCH,T9,100,90\n';
    await files.putReport(summaryKey, summary, REPORT_FILES['summary.json']);
    await files.putReport(differencesKey, new TextEncoder().encode(differences), REPORT_FILES['differences.csv']);

    const url = await files.presignReport(summaryKey);
    const parsed = new URL(url);
    expect(`${parsed.origin}${parsed.pathname}`).toBe(`${inject('s3Endpoint')}/${TEST_BUCKETS.reports}/${summaryKey}`);
    expect(parsed.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(parsed.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe(summary);

    const csv = await fetch(await files.presignReport(differencesKey, 60));
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(await csv.text()).toBe(differences);
    expect(await files.headReport(differencesKey)).toEqual({
      size: Buffer.byteLength(differences),
      lastModified: expect.any(Date),
    });
  });

  it('replaces a report on a re-run', async () => {
    const key = reportKey(uniqueDate(), 'WECHAT_PAY', 'summary.json');
    await files.putReport(key, '{"run":1}', REPORT_FILES['summary.json']);
    await files.putReport(key, '{"run":2}', REPORT_FILES['summary.json']);
    expect(await (await fetch(await files.presignReport(key))).text()).toBe('{"run":2}');
  });

  it('does not presign a report that is not there yet: headReport tells, the URL would answer 404', async () => {
    const key = reportKey(uniqueDate(), 'ALIPAY', 'summary.json');
    expect(await files.headReport(key)).toBeUndefined();
    expect((await fetch(await files.presignReport(key))).status).toBe(404);
  });

  it('refuses a presigned URL lifetime outside 1 s to 7 days', async () => {
    const key = reportKey(uniqueDate(), 'ALIPAY', 'summary.json');
    for (const seconds of [0, -1, 1.5, 7 * 24 * 3600 + 1]) {
      await expect(files.presignReport(key, seconds), String(seconds)).rejects.toThrow(/1 s to 7 days/);
    }
  });

  it('stores a streamed upload byte for byte (the local stack turns off aws-chunked checksum framing)', async () => {
    const key = billKey('SANDBOX', uniqueDate());
    const parts = [Buffer.from('trade_no,amount\n'), Buffer.from('T1,1.00\n')];
    const client = createS3Client();
    await client.send(
      new PutObjectCommand({
        Bucket: TEST_BUCKETS.bills,
        Key: key,
        Body: Readable.from(parts),
        ContentLength: Buffer.concat(parts).length,
      }),
    );
    client.destroy();
    const stream = await files.openBill(key);
    if (!stream) throw new Error('the bill just written is missing');
    expect((await collect(stream)).bytes.toString()).toBe('trade_no,amount\nT1,1.00\n');
  });
});
