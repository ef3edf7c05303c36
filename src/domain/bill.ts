import type { Channel } from '#domain/payment.ts';
import type { BillEntry } from '#domain/reconciliation.ts';

/** The channels that publish a bill (the balance channel is the gateway's own ledger). */
export type BillChannel = Exclude<Channel, 'BALANCE'>;

/** A normalized data line of a bill (1-based physical line number), what reconciliation compares. */
export interface BillLine extends BillEntry {
  type: 'line';
  lineNumber: number;
  /** What the merchant is settled for the line when the bill says (Alipay 商家实收, WeChat 应结订单金额/退款金额). */
  settlementMinor?: number;
  /** The goods description as the bill shows it. */
  subject?: string;
}

/** Why a line could not be used. Only `UNRECOGNIZED_FORMAT` is fatal: nothing after it is parsed. */
export type BillErrorCode =
  | 'MALFORMED_LINE'
  | 'LINE_TOO_LONG'
  | 'UNEXPECTED_LINE'
  | 'UNRECOGNIZED_FORMAT'
  | 'SUMMARY_MISMATCH'
  | 'MISSING_SUMMARY';

/** A line the parser could not use; parsing goes on after it (unless `fatal`). */
export interface BillError {
  type: 'error';
  code: BillErrorCode;
  lineNumber: number;
  reason: string;
  /** The line as read, cut to {@link RAW_LIMIT} characters. */
  raw: string;
  fatal?: true;
}

/** What the bill says about itself, emitted once its column header has been read. */
export interface BillHeader {
  type: 'header';
  lineNumber: number;
  /** The channel whose layout the header matched. */
  channel: BillChannel;
  /** The account the bill belongs to (Alipay `#账号：[…]`). */
  account?: string;
  /** The declared period `[from, to)` as ISO UTC instants (Alipay `#起始日期：[…] 终止日期：[…]`). */
  period?: { from: string; to: string };
  /** The declared bill day, when the period is exactly one bill day. WeChat Pay and sandbox bills declare none. */
  date?: string;
}

/** The bill's own totals (trailer/summary lines), as written, and how many data lines the parser saw. */
export interface BillSummary {
  type: 'summary';
  lineNumber: number;
  fields: Record<string, string>;
  dataLines: number;
}

/** Everything a bill parser yields, in file order. */
export type BillEvent = BillLine | BillError | BillHeader | BillSummary;

/** Longest `raw` kept on an error. */
export const RAW_LIMIT = 500;

/** Builds a {@link BillError}. */
export function billError(lineNumber: number, reason: string, raw: string, code: BillErrorCode = 'MALFORMED_LINE') {
  const error: BillError = { type: 'error', code, lineNumber, reason, raw: raw.slice(0, RAW_LIMIT) };
  if (code === 'UNRECOGNIZED_FORMAT') error.fatal = true;
  return error;
}
