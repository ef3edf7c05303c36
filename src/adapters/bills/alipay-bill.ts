import { type BillEvent, type BillHeader, type BillLine, billError } from '#domain/bill.ts';
import { decimalToMinor, locateColumns, negate, shanghaiTimeToIso, splitCsvLine } from './fields.ts';
import { readLines, type TextLine } from './line-reader.ts';

/** The columns of Alipay's 业务明细 (trade) bill this parser reads, by their header names. */
const COLUMNS = {
  tradeNo: '支付宝交易号',
  outTradeNo: '商户订单号',
  business: '业务类型',
  subject: '商品名称',
  finishedAt: '完成时间',
  amount: '订单金额（元）',
  received: '商家实收（元）',
  refundNo: '退款批次号/请求号',
  fee: '服务费（元）',
  remark: '备注',
} as const;
type Column = keyof typeof COLUMNS;
type Index = Partial<Record<Column, number>>;

const PERIOD = /起始日期[：:]\s*\[([^\]]+)\].*?终止日期[：:]\s*\[([^\]]+)\]/;
const ACCOUNT = /账号[：:]\s*\[([^\]]*)\]/;
/** More `#` lines than this before the header is not an Alipay bill (and must not be buffered). */
const MAX_PREAMBLE = 20;
const TOTALS = { 交易合计: /交易合计[：:]\s*(\d+)\s*笔/, 退款合计: /退款合计[：:]\s*(\d+)\s*笔/ };

/**
 * Parses Alipay's trade bill (GBK): `#` preamble (account, period) → column header → data rows (values padded with
 * tabs) → `#…业务明细列表结束…` and `#交易合计：N笔…` / `#退款合计：N笔…` footer. `交易` rows are payments
 * (商户订单号 = payment id), `退款` rows refunds (退款批次号/请求号 = refund id, amounts negative).
 */
export async function* parseAlipayBill(source: AsyncIterable<Uint8Array>): AsyncGenerator<BillEvent> {
  const preamble: string[] = [];
  let index: Index | undefined;
  let width = 0;
  let footerLine = 0;
  let last = 0;
  let dataLines = 0;
  const declared: Record<string, string> = {};
  for await (const line of readLines(source, 'gbk')) {
    last = line.lineNumber;
    const text = line.text.trim();
    if (text === '' && !line.tooLong) continue;
    if (!index) {
      if (text.startsWith('#') && !line.tooLong && preamble.length < MAX_PREAMBLE) {
        preamble.push(text);
        continue;
      }
      const header = splitCsvLine(text)?.map((name) => name.trim()) ?? [];
      const located = locateColumns(header, COLUMNS, ['subject', 'received', 'fee', 'remark']);
      if (line.tooLong || located.missing.length > 0) {
        yield billError(
          line.lineNumber,
          'not an Alipay trade bill: no 支付宝交易号/商户订单号 header',
          text,
          'UNRECOGNIZED_FORMAT',
        );
        return;
      }
      index = located.index;
      width = header.length;
      yield headerOf(preamble, line.lineNumber);
    } else if (text.startsWith('#') || footerLine > 0) {
      footerLine ||= line.lineNumber;
      if (!text.startsWith('#')) yield billError(line.lineNumber, 'data after the footer', text, 'UNEXPECTED_LINE');
      else readTotals(text, declared);
    } else {
      dataLines += 1;
      yield parseRow(line, index, width);
    }
  }
  if (!index) {
    yield billError(last, 'not an Alipay trade bill: no column header', preamble.join(' '), 'UNRECOGNIZED_FORMAT');
    return;
  }
  const count = Number(declared.交易合计 || Number.NaN) + Number(declared.退款合计 || Number.NaN);
  if (Number.isNaN(count)) {
    yield billError(last, 'the bill ends without its 交易合计/退款合计 footer (truncated?)', '', 'MISSING_SUMMARY');
    return;
  }
  yield { type: 'summary', lineNumber: footerLine, fields: declared, dataLines };
  if (count !== dataLines) {
    const reason = `the footer counts ${count} rows, the bill has ${dataLines}`;
    yield billError(footerLine, reason, JSON.stringify(declared), 'SUMMARY_MISMATCH');
  }
}

function readTotals(text: string, declared: Record<string, string>): void {
  for (const [name, pattern] of Object.entries(TOTALS)) {
    const count = pattern.exec(text)?.[1];
    if (count !== undefined) declared[name] = count;
  }
}

function headerOf(preamble: string[], lineNumber: number): BillHeader {
  const header: BillHeader = { type: 'header', lineNumber, channel: 'ALIPAY' };
  const text = preamble.join('\n');
  const account = ACCOUNT.exec(text)?.[1];
  if (account) header.account = account;
  const period = PERIOD.exec(text);
  const from = period && shanghaiTimeToIso(chineseDate(period[1] ?? ''));
  const to = period && shanghaiTimeToIso(chineseDate(period[2] ?? ''));
  if (from && to) {
    header.period = { from, to };
    const start = Date.parse(from) + 8 * 3_600_000;
    if (start % 86_400_000 === 0 && Date.parse(to) - Date.parse(from) === 86_400_000) {
      header.date = new Date(start).toISOString().slice(0, 10);
    }
  }
  return header;
}

/** `2026年01月02日 00:00:00` → `2026-01-02 00:00:00`. */
function chineseDate(text: string): string {
  return text.trim().replace(/^(\d{4})年(\d{2})月(\d{2})日/, '$1-$2-$3');
}

function parseRow(line: TextLine, index: Index, width: number): BillEvent {
  const fields = line.tooLong ? undefined : splitCsvLine(line.text)?.map((value) => value.trim());
  if (!fields) return billError(line.lineNumber, 'unreadable row', line.text, line.tooLong && 'LINE_TOO_LONG');
  const extra = fields.length - width;
  if (extra < 0) return billError(line.lineNumber, `${fields.length} of ${width} columns`, line.text);
  if (extra === 0) {
    const parsed = toLine(fields, index, line.lineNumber);
    return typeof parsed === 'string' ? billError(line.lineNumber, parsed, line.text) : parsed;
  }
  // Alipay does not quote: a comma in 商品名称 or 备注 adds columns. Fold the extras into each in turn; a wrong fold
  // shifts 完成时间 and the amounts, which then fail to parse.
  for (const at of [index.subject, index.remark]) {
    if (at === undefined) continue;
    const folded = [
      ...fields.slice(0, at),
      fields.slice(at, at + extra + 1).join(','),
      ...fields.slice(at + extra + 1),
    ];
    const parsed = toLine(folded, index, line.lineNumber);
    if (typeof parsed !== 'string') return parsed;
  }
  return billError(line.lineNumber, `${fields.length} columns where the header has ${width}`, line.text);
}

function toLine(row: string[], index: Index, lineNumber: number): BillLine | string {
  const get = (column: Column) => (index[column] === undefined ? '' : (row[index[column]] ?? ''));
  const business = get('business');
  const kind = business === '交易' ? 'PAYMENT' : business === '退款' ? 'REFUND' : undefined;
  if (!kind) return `unknown 业务类型 "${business}"`;
  const amount = decimalToMinor(get('amount'), 'CNY');
  const fee = decimalToMinor(get('fee') || '0', 'CNY');
  const received = decimalToMinor(get('received') || '0', 'CNY');
  const occurredAt = shanghaiTimeToIso(get('finishedAt'));
  const gatewayId = kind === 'PAYMENT' ? get('outTradeNo') : get('refundNo');
  if (amount === undefined || fee === undefined || received === undefined) return 'an amount is not a yuan decimal';
  if (!occurredAt) return `完成时间 "${get('finishedAt')}" is not a time`;
  if (!gatewayId) return kind === 'PAYMENT' ? 'no 商户订单号' : 'no 退款批次号/请求号';
  // Signs differ by row kind in Alipay's files; the kind carries the direction, so only magnitudes are kept.
  const line: BillLine = {
    type: 'line',
    lineNumber,
    kind,
    gatewayId,
    channelTradeNo: get('tradeNo'),
    amountMinor: Math.abs(amount),
    feeMinor: kind === 'PAYMENT' ? Math.abs(fee) : negate(Math.abs(fee)),
    settlementMinor: Math.abs(received),
    currency: 'CNY',
    status: 'SUCCESS',
    occurredAt,
    subject: get('subject'),
  };
  if (kind === 'REFUND') line.paymentId = get('outTradeNo');
  return line;
}
