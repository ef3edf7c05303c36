// Over 250 lines: every layout, chunking and error class of the three bill parsers.
import Big from 'big.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectBill } from '#adapters/bills/bill-check.ts';
import { decimalToMinor } from '#adapters/bills/fields.ts';
import { readLines } from '#adapters/bills/line-reader.ts';
import { parseBill } from '#adapters/bills/parse-bill.ts';
import { writeSandboxBill } from '#adapters/bills/sandbox-bill.ts';
import type { BillChannel, BillEvent, BillLine } from '#domain/bill.ts';
import { SHANGHAI } from '#domain/business-day.ts';
import {
  alipayBill,
  alipayHead,
  alipayRow,
  type BillRecord,
  type BillTotals,
  billOf,
  chunked,
  collect,
  encodeGbk,
  lazyBill,
  recordArbitrary,
  sandboxBill,
  totalsOf,
  utf8,
  WECHAT_HEADER,
  wechatPayBill,
  wechatRow,
  wechatSummary,
} from '../support/bills.ts';

const DATE = '2026-01-02';
const CHANNELS: BillChannel[] = ['ALIPAY', 'WECHAT_PAY', 'SANDBOX'];

const payment: BillRecord = {
  kind: 'PAYMENT',
  gatewayId: 'pay_0123456789abcdef0123456789abcdef',
  paymentId: 'pay_0123456789abcdef0123456789abcdef',
  channelTradeNo: '2026010222001400000000000001',
  amountMinor: 12_345,
  feeMinor: 74,
  status: 'SUCCESS',
  occurredAt: '2026-01-02T00:30:00.000Z', // 08:30 in Asia/Shanghai: the same bill day for every channel
  subject: '会员月卡（龙鑫）',
};
const refund: BillRecord = {
  ...payment,
  kind: 'REFUND',
  gatewayId: 'ref_fedcba9876543210fedcba9876543210',
  amountMinor: 2_000,
  feeMinor: -12,
  occurredAt: '2026-01-02T15:59:59.000Z', // 23:59:59 in Asia/Shanghai
};

const lines = (events: BillEvent[]) => events.filter((event): event is BillLine => event.type === 'line');
const errors = (events: BillEvent[]) => events.filter((event) => event.type === 'error');
const parse = (channel: BillChannel, bytes: Uint8Array, cuts?: number[]) =>
  collect(parseBill(channel, chunked(bytes, cuts)));

function sum(events: BillEvent[]): BillTotals {
  return totalsOf(lines(events).map((line) => ({ ...line, paymentId: '', subject: '' })));
}

describe('decimalToMinor', () => {
  it.each([
    ['0.05940', 'halfUp', 6],
    ['-0.05940', 'halfUp', -6],
    ['0.005', 'halfUp', 1],
    ['0.00499', 'halfUp', 0],
    ['-0.00', 'exact', 0],
    ['1.001', 'exact', undefined],
    ['1.000', 'exact', 100],
    ['01.00', 'exact', undefined],
    ['1e3', 'exact', undefined],
    ['', 'exact', undefined],
  ] as const)('reads %j (%s) as %s', (text, rounding, minor) => {
    expect(decimalToMinor(text, 'CNY', rounding)).toBe(minor);
  });

  it('agrees with big.js on any decimal', () => {
    const decimal = fc
      .tuple(fc.bigInt({ min: -(10n ** 11n), max: 10n ** 11n }), fc.nat(6))
      .map(([units, scale]) => (Number(units) / 10 ** scale).toFixed(scale));
    fc.assert(
      fc.property(decimal, fc.constantFrom('CNY', 'JPY', 'KWD'), (text, currency) => {
        const scaled = new Big(text).times(10 ** (currency === 'CNY' ? 2 : currency === 'JPY' ? 0 : 3));
        const exact = scaled.eq(scaled.round(0)) ? scaled.toNumber() : undefined;
        expect(decimalToMinor(text, currency)).toBe(exact === 0 ? 0 : exact);
        expect(decimalToMinor(text, currency, 'halfUp')).toBe(scaled.round(0, Big.roundHalfUp).toNumber() || 0);
      }),
    );
  });
});

describe('readLines', () => {
  it('ends lines at LF and CRLF, also when the CR and LF arrive in different chunks', async () => {
    const bytes = utf8('a\r\nb\nc\r\n\r\nd');
    const read = await collect(readLines(chunked(bytes, [2, 3, 5]), 'utf-8'));
    expect(read.map((line) => line.text)).toEqual(['a', 'b', 'c', '', 'd']);
    expect(read.map((line) => line.lineNumber)).toEqual([1, 2, 3, 4, 5]);
  });

  it('drops a UTF-8 BOM and keeps a character split across chunks', async () => {
    const bytes = utf8('\ufeff交易时间\n商品');
    const read = await collect(readLines(chunked(bytes, [1, 4, 5, 11]), 'utf-8'));
    expect(read.map((line) => line.text)).toEqual(['交易时间', '商品']);
  });

  it('decodes GBK with a two-byte character split across chunks', async () => {
    const bytes = encodeGbk('#支付宝\r\n龙鑫');
    const read = await collect(readLines(chunked(bytes, [2, 4, 10]), 'gbk'));
    expect(read.map((line) => line.text)).toEqual(['#支付宝', '龙鑫']);
  });

  it('reports an overlong line by its start and goes on with the next', async () => {
    const bytes = utf8(`${'x'.repeat(5_000)}\nnext\n`);
    const read = await collect(readLines(chunked(bytes, [100, 2_000, 4_000]), 'utf-8', 1_000));
    expect(read).toEqual([
      { lineNumber: 1, text: 'x'.repeat(200), tooLong: true },
      { lineNumber: 2, text: 'next' },
    ]);
  });
});

describe('Alipay trade bill', () => {
  const bytes = alipayBill([payment, refund], DATE);

  it('reads the declared period and normalizes payment and refund rows', async () => {
    const events = await parse('ALIPAY', bytes);
    expect(events[0]).toMatchObject({ type: 'header', channel: 'ALIPAY', account: '20880000000000000156', date: DATE });
    expect(lines(events)).toEqual([
      expect.objectContaining({ lineNumber: 6, kind: 'PAYMENT', gatewayId: payment.gatewayId, amountMinor: 12_345 }),
      expect.objectContaining({
        lineNumber: 7,
        kind: 'REFUND',
        gatewayId: refund.gatewayId,
        paymentId: payment.gatewayId,
      }),
    ]);
    expect(lines(events)[0]).toMatchObject({
      feeMinor: 74,
      currency: 'CNY',
      status: 'SUCCESS',
      subject: payment.subject,
    });
    expect(lines(events)[1]).toMatchObject({ amountMinor: 2_000, feeMinor: -12, occurredAt: refund.occurredAt });
    expect(events.at(-1)).toMatchObject({ type: 'summary', fields: { 交易合计: '1', 退款合计: '1' }, dataLines: 2 });
    expect(errors(events)).toEqual([]);
  });

  it('decodes the same GBK goods name wherever the chunks are cut', async () => {
    const whole = await parse('ALIPAY', bytes);
    for (let cut = 1; cut < bytes.length; cut += 1) expect(await parse('ALIPAY', bytes, [cut])).toEqual(whole);
  });

  it('folds a comma of the goods name or the remark back into it instead of shifting the columns', async () => {
    const text = `${alipayHead(DATE)}${alipayRow({ ...payment, subject: '月卡,年卡' })}\r\n${alipayRow(refund)}备注,有逗号`;
    const [first, second] = lines(await parse('ALIPAY', encodeGbk(text)));
    expect(first).toMatchObject({ subject: '月卡,年卡', amountMinor: 12_345, gatewayId: payment.gatewayId });
    expect(second).toMatchObject({ subject: payment.subject, amountMinor: 2_000, gatewayId: refund.gatewayId });
  });

  it('reports a malformed row with its line number and parses the rest', async () => {
    const broken = alipayRow(payment).replace('123.45', '12x.45');
    const text = `${alipayHead(DATE)}${broken}\r\n${alipayRow(refund)}\r\n#结束\r\n#交易合计：1笔\r\n#退款合计：1笔\r\n`;
    const events = await parse('ALIPAY', encodeGbk(text));
    expect(errors(events)).toEqual([expect.objectContaining({ code: 'MALFORMED_LINE', lineNumber: 6, raw: broken })]);
    expect(lines(events).map((line) => line.lineNumber)).toEqual([7]);
  });

  it('flags a bill without its footer and one whose footer miscounts', async () => {
    const truncated = await parse('ALIPAY', alipayBill([payment], DATE, { truncate: true }));
    expect(truncated.at(-1)).toMatchObject({ type: 'error', code: 'MISSING_SUMMARY' });
    const text = `${alipayHead(DATE)}${alipayRow(payment)}\r\n#结束\r\n#交易合计：3笔\r\n#退款合计：0笔\r\n`;
    expect(errors(await parse('ALIPAY', encodeGbk(text)))).toEqual([
      expect.objectContaining({ code: 'SUMMARY_MISMATCH', lineNumber: 7 }),
    ]);
  });
});

describe('WeChat Pay trade bill', () => {
  const processing = { ...refund, status: 'PROCESSING', gatewayId: 'ref_11111111111111111111111111111111' };
  const bytes = wechatPayBill([payment, refund, processing]);

  it('strips the backticks, restores the pay_ prefix and skips header and summary', async () => {
    const events = await parse('WECHAT_PAY', bytes);
    expect(events[0]).toEqual({ type: 'header', lineNumber: 1, channel: 'WECHAT_PAY' });
    expect(lines(events)).toEqual([
      expect.objectContaining({ lineNumber: 2, kind: 'PAYMENT', gatewayId: payment.gatewayId, status: 'SUCCESS' }),
      expect.objectContaining({
        lineNumber: 3,
        kind: 'REFUND',
        gatewayId: refund.gatewayId,
        paymentId: payment.gatewayId,
      }),
      expect.objectContaining({
        lineNumber: 4,
        kind: 'REFUND',
        status: 'PROCESSING',
        amountMinor: 2_000,
        feeMinor: -12,
      }),
    ]);
    expect(lines(events)[0]).toMatchObject({ channelTradeNo: payment.channelTradeNo, occurredAt: payment.occurredAt });
    expect(events.at(-1)).toMatchObject({ type: 'summary', lineNumber: 6, fields: { 总交易单数: '3' }, dataLines: 3 });
    expect(errors(events)).toEqual([]);
  });

  it('rounds the five-decimal fee half up to fen and keeps a comma inside a value', async () => {
    const row = wechatRow({ ...payment, subject: '月卡,年卡' }).replace('`0.74000', '`0.05940');
    const text = `${WECHAT_HEADER}\n${row}\n${wechatSummary([payment], '\n')}`;
    const [line] = lines(await parse('WECHAT_PAY', utf8(text)));
    expect(line).toMatchObject({ feeMinor: 6, subject: '月卡,年卡', amountMinor: 12_345 });
  });

  it('reports a malformed row with its line number, parses the rest and still checks the row count', async () => {
    const broken = wechatRow(payment).replace('`2026-01-02 08:30:00', '`2026-13-02 08:30:00');
    const text = `${WECHAT_HEADER}\n${broken}\n${wechatRow(refund)}\n${wechatSummary([payment, refund, refund], '\n')}`;
    const events = await parse('WECHAT_PAY', utf8(text));
    expect(errors(events)).toEqual([
      expect.objectContaining({ code: 'MALFORMED_LINE', lineNumber: 2, raw: broken }),
      expect.objectContaining({ code: 'SUMMARY_MISMATCH', lineNumber: 5, reason: '总交易单数 3, rows 2' }),
    ]);
    expect(lines(events).map((line) => line.gatewayId)).toEqual([refund.gatewayId]);
  });

  it('reads the SUCCESS-type bill, which has no refund columns', async () => {
    const refundColumns = [
      '微信退款单号',
      '商户退款单号',
      '退款金额',
      '充值券退款金额',
      '退款类型',
      '退款状态',
      '申请退款金额',
    ];
    const names = WECHAT_HEADER.split(',');
    const keep = (values: string[]) => values.filter((_, i) => !refundColumns.includes(names[i] ?? ''));
    const header = keep(names).join(',');
    const row = `\`${keep(wechatRow(payment).slice(1).split(',`')).join(',`')}`;
    const events = await parse('WECHAT_PAY', utf8(`${header}\n${row}\n${wechatSummary([payment], '\n')}`));
    expect(errors(events)).toEqual([]);
    expect(lines(events)).toEqual([
      expect.objectContaining({ kind: 'PAYMENT', gatewayId: payment.gatewayId, amountMinor: 12_345, feeMinor: 74 }),
    ]);
  });

  it('checks the summary sums and flags a missing summary', async () => {
    const text = `${WECHAT_HEADER}\n${wechatRow(payment)}\n${wechatSummary([{ ...payment, amountMinor: 1 }], '\n')}`;
    expect(errors(await parse('WECHAT_PAY', utf8(text)))).toEqual([
      expect.objectContaining({ code: 'SUMMARY_MISMATCH', reason: '应结订单总金额 0.01, rows sum 12345' }),
    ]);
    const truncated = await parse('WECHAT_PAY', wechatPayBill([payment], { truncate: true }));
    expect(truncated.at(-1)).toMatchObject({ type: 'error', code: 'MISSING_SUMMARY' });
  });
});

describe('sandbox bill', () => {
  it('parses contract decimals and checks the #total trailer', async () => {
    const events = await parse('SANDBOX', sandboxBill([payment, refund]));
    expect(lines(events).map(({ kind, amountMinor, feeMinor }) => ({ kind, amountMinor, feeMinor }))).toEqual([
      { kind: 'PAYMENT', amountMinor: 12_345, feeMinor: 74 },
      { kind: 'REFUND', amountMinor: 2_000, feeMinor: -12 },
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'summary', fields: { count: '2', sum: '143.45' }, dataLines: 2 });
  });

  it('reports malformed lines and a trailer that disagrees', async () => {
    const text = `${new TextDecoder().decode(sandboxBill([payment]))}`
      .replace('#total,1,123.45', 'pay_x,PAYMENT,t,1.001,CNY,0.00,SUCCESS,2026-01-02T00:00:00Z\n#total,2,999.00')
      .concat('pay_y,PAYMENT,t,1.00,CNY,0.00,SUCCESS,2026-02-30T00:00:00Z\n');
    const events = await parse('SANDBOX', utf8(text));
    expect(errors(events).map(({ code, lineNumber }) => ({ code, lineNumber }))).toEqual([
      { code: 'MALFORMED_LINE', lineNumber: 3 },
      { code: 'UNEXPECTED_LINE', lineNumber: 5 },
    ]);
    const wrongSum = new TextDecoder().decode(sandboxBill([payment])).replace('123.45', '123.46');
    expect(errors(await parse('SANDBOX', utf8(wrongSum)))).toEqual([
      expect.objectContaining({ code: 'SUMMARY_MISMATCH' }),
    ]);
  });
});

describe('writeSandboxBill', () => {
  it('writes what parseSandboxBill reads back', async () => {
    const records = fc.array(recordArbitrary('SANDBOX', DATE), { maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(records, async (generated) => {
        const entries = generated.map(({ subject, paymentId, ...rest }) => ({ ...rest, currency: 'CNY' }));
        const written = Buffer.concat(await collect(writeSandboxBill(entries)));
        const events = await parse('SANDBOX', written);
        expect(errors(events)).toEqual([]);
        expect(lines(events).map(({ type, lineNumber, ...entry }) => entry)).toEqual(entries);
      }),
      { numRuns: 30 },
    );
  });
});

describe('inspectBill', () => {
  it.each(CHANNELS)('accepts a %s bill of the expected day', async (channel) => {
    const verdict = await inspectBill(channel, chunked(billOf(channel, [payment, refund], DATE), [7]), DATE, SHANGHAI);
    expect(verdict).toMatchObject({ accepted: true, problems: [], lines: 2, errors: 0, days: [DATE] });
  });

  it.each([
    ['ALIPAY', 'WECHAT_PAY'],
    ['WECHAT_PAY', 'SANDBOX'],
    ['SANDBOX', 'ALIPAY'],
  ] as const)('rejects a %s bill handed over as a %s one', async (actual, expected) => {
    const verdict = await inspectBill(expected, chunked(billOf(actual, [payment], DATE), [3]), DATE, SHANGHAI);
    expect(verdict.accepted).toBe(false);
    expect(verdict.problems).toEqual([{ code: 'WRONG_CHANNEL', message: `a ${actual} bill, not a ${expected} one` }]);
  });

  it.each(CHANNELS)('rejects a %s bill of another day', async (channel) => {
    const verdict = await inspectBill(channel, chunked(billOf(channel, [payment], DATE)), '2026-01-03', SHANGHAI);
    expect(verdict.accepted).toBe(false);
    expect(verdict.problems.map((problem) => problem.code)).toContain('WRONG_DATE');
  });

  it('does not take a WeChat Pay refund of an older payment as evidence of another day', async () => {
    const late = { ...refund, occurredAt: '2025-12-30T01:00:00.000Z' };
    expect(await inspectBill('WECHAT_PAY', chunked(wechatPayBill([payment, late])), DATE, SHANGHAI)).toMatchObject({
      accepted: true,
    });
  });

  it('rejects a truncated bill', async () => {
    const verdict = await inspectBill('SANDBOX', chunked(sandboxBill([payment], { truncate: true })), DATE, SHANGHAI);
    expect(verdict.problems.map((problem) => problem.code)).toEqual(['MISSING_SUMMARY']);
  });
});

describe.each(CHANNELS)('%s bills, generated', (channel) => {
  const bills = fc.array(recordArbitrary(channel, DATE), { maxLength: 25 });

  it('parse to the totals they were generated with, however the bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(bills, fc.array(fc.nat(20_000), { maxLength: 12 }), async (records, cuts) => {
        const bytes = billOf(channel, records, DATE);
        const whole = await parse(channel, bytes);
        expect(errors(whole)).toEqual([]);
        expect(sum(whole)).toEqual(totalsOf(records));
        expect(lines(whole).map((line) => line.gatewayId)).toEqual(records.map((record) => record.gatewayId));
        expect(
          await parse(
            channel,
            bytes,
            cuts.map((cut) => cut % (bytes.length + 1)),
          ),
        ).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });

  it('streams a 100,000-line bill: lines come out before the file is read, and add up', async () => {
    const progress = { chunks: 0, totals: { lines: 0, paymentMinor: 0, refundMinor: 0, feeMinor: 0 } };
    const parsed: BillTotals = { lines: 0, paymentMinor: 0, refundMinor: 0, feeMinor: 0 };
    let chunksReadAtFirstLine = 0;
    let summaryLines = -1;
    let errorCount = 0;
    for await (const event of parseBill(channel, lazyBill(channel, 100_000, DATE, progress))) {
      if (event.type === 'error') errorCount += 1;
      if (event.type === 'summary') summaryLines = event.dataLines;
      if (event.type !== 'line') continue;
      chunksReadAtFirstLine ||= progress.chunks;
      parsed.lines += 1;
      parsed[event.kind === 'PAYMENT' ? 'paymentMinor' : 'refundMinor'] += event.amountMinor;
      parsed.feeMinor += event.feeMinor;
    }
    expect(errorCount).toBe(0);
    expect(chunksReadAtFirstLine).toBe(1);
    expect(progress.chunks).toBe(101);
    expect(parsed).toEqual(progress.totals);
    expect(parsed.lines).toBe(100_000);
    expect(summaryLines).toBe(100_000);
  }, 240_000); // a bound against a hang on a busy machine, not a speed claim (the bench measures speed)
});
