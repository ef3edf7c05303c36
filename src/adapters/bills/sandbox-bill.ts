import Big from 'big.js';
import { type BillEvent, type BillLine, billError } from '#domain/bill.ts';
import { formatAmount, parseAmount } from '#domain/money.ts';
import type { BillEntry } from '#domain/reconciliation.ts';
import { decimalToMinor, quoteCsv, splitCsvLine } from './fields.ts';
import { readLines, type TextLine } from './line-reader.ts';

/** The sandbox bill's header line, exactly (see docs/bill-formats.md). */
export const SANDBOX_BILL_HEADER = 'gateway_id,type,channel_trade_no,amount,currency,fee,status,occurred_at';
const WIDTH = SANDBOX_BILL_HEADER.split(',').length;
const TRAILER = /^#total,(0|[1-9][0-9]*),(-?[0-9]+(?:\.[0-9]+)?)$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/**
 * Parses the sandbox channel's bill (UTF-8 CSV): the header line, data lines, then `#total,<count>,<sum>` where
 * `<sum>` is the exact decimal sum of the `amount` column. The trailer is checked: count always, sum when every
 * line parsed.
 */
export async function* parseSandboxBill(source: AsyncIterable<Uint8Array>): AsyncGenerator<BillEvent> {
  let headerSeen = false;
  let trailerLine = 0;
  let last = 0;
  let dataLines = 0;
  let errors = 0;
  let sum = new Big(0);
  for await (const line of readLines(source, 'utf-8')) {
    last = line.lineNumber;
    const text = line.text.trim();
    if (text === '' && !line.tooLong) continue;
    if (!headerSeen) {
      if (text !== SANDBOX_BILL_HEADER) {
        yield billError(line.lineNumber, 'not a sandbox bill: unexpected header', text, 'UNRECOGNIZED_FORMAT');
        return;
      }
      headerSeen = true;
      yield { type: 'header', lineNumber: line.lineNumber, channel: 'SANDBOX' };
    } else if (trailerLine > 0) {
      yield billError(line.lineNumber, 'a line after the trailer', text, 'UNEXPECTED_LINE');
    } else if (text.startsWith('#')) {
      trailerLine = line.lineNumber;
      const trailer = TRAILER.exec(text);
      const fields = { count: trailer?.[1] ?? '', sum: trailer?.[2] ?? '' };
      yield { type: 'summary', lineNumber: line.lineNumber, fields, dataLines };
      const countAgrees = fields.count === String(dataLines);
      const sumAgrees = errors > 0 || (trailer !== null && sum.eq(fields.sum));
      if (!countAgrees || !sumAgrees) {
        const reason = `trailer says ${fields.count || '?'} lines summing ${fields.sum || '?'}; the bill has ${dataLines} summing ${sum.toFixed()}`;
        yield billError(line.lineNumber, reason, text, 'SUMMARY_MISMATCH');
      }
    } else {
      dataLines += 1;
      const event = parseRow(line);
      if (event.type === 'error') errors += 1;
      else sum = sum.plus(event.amountText);
      yield event.type === 'error' ? event : event.line;
    }
  }
  if (!headerSeen) yield billError(last, 'not a sandbox bill: empty', '', 'UNRECOGNIZED_FORMAT');
  else if (!trailerLine)
    yield billError(last, 'the bill ends without its #total trailer (truncated?)', '', 'MISSING_SUMMARY');
}

function parseRow(line: TextLine) {
  const fail = (reason: string) => billError(line.lineNumber, reason, line.text, line.tooLong && 'LINE_TOO_LONG');
  const row = line.tooLong ? undefined : splitCsvLine(line.text.trim());
  if (!row || row.length !== WIDTH) return fail(`expected ${WIDTH} columns`);
  const [
    gatewayId = '',
    type,
    channelTradeNo = '',
    amount = '',
    currency = '',
    fee = '',
    status = '',
    occurredAt = '',
  ] = row.map((value) => value.trim());
  if (type !== 'PAYMENT' && type !== 'REFUND') return fail(`type "${type}" is neither PAYMENT nor REFUND`);
  if (!gatewayId || !status) return fail('gateway_id and status are required');
  let amountMinor: number;
  try {
    amountMinor = parseAmount(amount, currency).minor;
  } catch {
    return fail(`amount "${amount}" is not a ${currency} contract amount`);
  }
  const feeMinor = decimalToMinor(fee, currency);
  if (feeMinor === undefined) return fail(`fee "${fee}" is not a ${currency} decimal`);
  const at = ISO_UTC.test(occurredAt) ? Date.parse(occurredAt) : Number.NaN;
  // Date.parse rolls 02-30 over: a time that does not read back the same was not a real time.
  if (Number.isNaN(at) || new Date(at).toISOString() !== occurredAt.replace(/(:\d{2})Z$/, '$1.000Z')) {
    return fail('occurred_at is not ISO 8601 UTC');
  }
  const bill: BillLine = {
    type: 'line',
    lineNumber: line.lineNumber,
    kind: type,
    gatewayId,
    channelTradeNo,
    amountMinor,
    feeMinor,
    currency,
    status,
    occurredAt: new Date(at).toISOString(),
  };
  return { type: 'line' as const, line: bill, amountText: amount };
}

/**
 * Writes a sandbox bill from entries as they come (how the sandbox channel can publish its bill to S3): the header,
 * one line per entry in contract decimals, then the `#total` trailer. The inverse of {@link parseSandboxBill}.
 */
export async function* writeSandboxBill(
  entries: AsyncIterable<BillEntry> | Iterable<BillEntry>,
): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  let count = 0;
  let sum = new Big(0);
  yield encoder.encode(`${SANDBOX_BILL_HEADER}\n`);
  for await (const entry of entries) {
    const { gatewayId, kind, channelTradeNo, amountMinor, currency, feeMinor, status, occurredAt } = entry;
    const amount = formatAmount(amountMinor, currency);
    count += 1;
    sum = sum.plus(amount);
    const fields = [
      gatewayId,
      kind,
      channelTradeNo,
      amount,
      currency,
      formatAmount(feeMinor, currency),
      status,
      occurredAt,
    ];
    yield encoder.encode(`${fields.map(quoteCsv).join(',')}\n`);
  }
  yield encoder.encode(`#total,${count},${sum.toFixed()}\n`);
}
