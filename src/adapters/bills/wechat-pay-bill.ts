import { paymentIdOf } from '#adapters/channels/wechat-pay/transformers.ts';
import { type BillError, type BillEvent, type BillLine, billError } from '#domain/bill.ts';
import { addMinor } from '#domain/money.ts';
import { decimalToMinor, locateColumns, shanghaiTimeToIso } from './fields.ts';
import { readLines, type TextLine } from './line-reader.ts';

/** The columns of WeChat Pay's trade bill (`/v3/bill/tradebill`) this parser reads, by their header names. */
const COLUMNS = {
  time: '交易时间',
  transactionId: '微信订单号',
  outTradeNo: '商户订单号',
  state: '交易状态',
  currency: '货币种类',
  settlement: '应结订单金额',
  refundId: '微信退款单号',
  outRefundNo: '商户退款单号',
  refunded: '退款金额',
  refundStatus: '退款状态',
  subject: '商品名称',
  fee: '手续费',
  total: '订单金额',
  refundRequested: '申请退款金额',
} as const;
type Column = keyof typeof COLUMNS;
type Index = Partial<Record<Column, number>>;
// The SUCCESS-type bill (payments only) has no refund columns.
const OPTIONAL: Column[] = [
  'currency',
  'refundId',
  'outRefundNo',
  'refunded',
  'refundStatus',
  'refundRequested',
  'subject',
];
const SUMMARY_MARK = '总交易单数';

/** Splits a row whose every value starts with a backtick; `,`` is the separator, so a comma inside a value survives. */
function splitRow(text: string): string[] {
  return text.startsWith('`') ? text.slice(1).split(',`') : text.split(',');
}

/**
 * Parses WeChat Pay's trade bill (UTF-8): column header → data rows → `总交易单数,…` summary header → one summary row.
 * `REFUND` rows are refunds (商户退款单号 = refund id); others are payments (商户订单号 = payment id without `pay_`).
 * The summary is checked: its row count always, its 应结订单总金额/退款总金额 column sums when every row parsed.
 */
export async function* parseWechatPayBill(source: AsyncIterable<Uint8Array>): AsyncGenerator<BillEvent> {
  let index: Index | undefined;
  let width = 0;
  let summaryNames: string[] | undefined;
  let summaryLine = 0;
  let last = 0;
  const seen: Seen = { dataLines: 0, errors: 0, settlement: 0, refunded: 0 };
  for await (const line of readLines(source, 'utf-8')) {
    last = line.lineNumber;
    const text = line.text.trim();
    if (text === '' && !line.tooLong) continue;
    if (!index) {
      const header = text.split(',');
      const located = locateColumns(header, COLUMNS, OPTIONAL);
      if (line.tooLong || located.missing.length > 0) {
        const reason = `not a WeChat Pay trade bill: header lacks ${located.missing.join(', ') || 'a readable header'}`;
        yield billError(line.lineNumber, reason, text, 'UNRECOGNIZED_FORMAT');
        return;
      }
      index = located.index;
      width = header.length;
      yield { type: 'header', lineNumber: line.lineNumber, channel: 'WECHAT_PAY' };
    } else if (summaryLine > 0) {
      yield billError(line.lineNumber, 'a line after the summary', text, 'UNEXPECTED_LINE');
    } else if (summaryNames) {
      summaryLine = line.lineNumber;
      yield* checkSummary(summaryNames, splitRow(text), line, seen);
    } else if (text.startsWith(SUMMARY_MARK)) {
      summaryNames = text.split(',');
    } else {
      seen.dataLines += 1;
      const event = parseRow(line, index, width);
      if (event.type === 'error') seen.errors += 1;
      else {
        seen.settlement = addMinor(seen.settlement, event.sums.settlement);
        seen.refunded = addMinor(seen.refunded, event.sums.refunded);
      }
      yield event.type === 'error' ? event : event.line;
    }
  }
  if (!index) yield billError(last, 'not a WeChat Pay trade bill: empty', '', 'UNRECOGNIZED_FORMAT');
  else if (!summaryLine) yield billError(last, 'the bill ends without its summary (truncated?)', '', 'MISSING_SUMMARY');
}

interface Seen {
  dataLines: number;
  errors: number;
  settlement: number;
  refunded: number;
}

function* checkSummary(names: string[], values: string[], line: TextLine, seen: Seen): Generator<BillEvent> {
  const fields = Object.fromEntries(names.map((name, i) => [name.trim(), values[i]?.trim() ?? '']));
  yield { type: 'summary', lineNumber: line.lineNumber, fields, dataLines: seen.dataLines };
  const problems: string[] = [];
  if (fields[SUMMARY_MARK] !== String(seen.dataLines))
    problems.push(`总交易单数 ${fields[SUMMARY_MARK]}, rows ${seen.dataLines}`);
  const sums = { 应结订单总金额: seen.settlement, 退款总金额: seen.refunded };
  for (const [name, sum] of Object.entries(sums)) {
    const declared = fields[name] === undefined ? undefined : decimalToMinor(fields[name], 'CNY');
    if (!seen.errors && declared !== undefined && declared !== sum)
      problems.push(`${name} ${fields[name]}, rows sum ${sum}`);
  }
  if (problems.length > 0) yield billError(line.lineNumber, problems.join('; '), line.text, 'SUMMARY_MISMATCH');
}

type Parsed = BillError | { type: 'line'; line: BillLine; sums: { settlement: number; refunded: number } };

function parseRow(line: TextLine, index: Index, width: number): Parsed {
  if (line.tooLong) return billError(line.lineNumber, 'unreadable row', line.text, 'LINE_TOO_LONG');
  const row = splitRow(line.text.trim());
  if (row.length !== width)
    return billError(line.lineNumber, `${row.length} columns where the header has ${width}`, line.text);
  const get = (column: Column) => (index[column] === undefined ? '' : (row[index[column]]?.trim() ?? ''));
  const currency = get('currency') || 'CNY';
  const refund = get('state') === 'REFUND';
  const amountText = refund ? get('refundRequested') || get('refunded') : get('total') || get('settlement');
  const amount = decimalToMinor(amountText, currency);
  const settlement = decimalToMinor(get('settlement') || '0', currency);
  const refunded = decimalToMinor(get('refunded') || '0', currency);
  const fee = decimalToMinor(get('fee') || '0', currency, 'halfUp');
  const occurredAt = shanghaiTimeToIso(get('time'));
  const gatewayId = refund ? get('outRefundNo') : get('outTradeNo') && paymentIdOf(get('outTradeNo'));
  const fail = (reason: string) => billError(line.lineNumber, reason, line.text);
  if (amount === undefined || settlement === undefined || refunded === undefined || fee === undefined) {
    return fail(`an amount is not a ${currency} decimal`);
  }
  if (!occurredAt) return fail(`交易时间 "${get('time')}" is not a time`);
  if (!gatewayId) return fail(refund ? 'no 商户退款单号' : 'no 商户订单号');
  const bill: BillLine = {
    type: 'line',
    lineNumber: line.lineNumber,
    kind: refund ? 'REFUND' : 'PAYMENT',
    gatewayId,
    channelTradeNo: refund ? get('refundId') : get('transactionId'),
    amountMinor: Math.abs(amount),
    feeMinor: fee,
    settlementMinor: Math.abs(refund ? refunded : settlement),
    currency,
    status: refund ? get('refundStatus') || 'UNKNOWN' : get('state'),
    occurredAt,
    subject: get('subject'),
  };
  if (refund && get('outTradeNo')) bill.paymentId = paymentIdOf(get('outTradeNo'));
  return { type: 'line', line: bill, sums: { settlement, refunded } };
}
