import { formatAmount, parseAmount } from '#domain/money.ts';
import type { ChannelPaymentResult, Payment } from '#domain/payment.ts';
import { logger } from '#shared/observability.ts';
import * as z from '#shared/zod.ts';

/**
 * Alipay wire types (what its open-platform API answers and notifies) and the ONE mapping of its `trade_status` to
 * the gateway's payment results. Amounts on the wire are yuan decimal strings (`"100.00"`); times are
 * `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai (UTC+8, no daylight saving).
 */

/** The pay methods Alipay takes here, and the API method + `product_code` each uses. */
export const PAY_METHODS = {
  QR: { api: 'alipay.trade.precreate', productCode: 'FACE_TO_FACE_PAYMENT' },
  PAGE: { api: 'alipay.trade.page.pay', productCode: 'FAST_INSTANT_TRADE_PAY' },
  WAP: { api: 'alipay.trade.wap.pay', productCode: 'QUICK_WAP_WAY' },
} as const;
/** A gateway pay method Alipay takes. */
export type AlipayPayMethod = keyof typeof PAY_METHODS;

/**
 * `biz_content` of precreate / page.pay / wap.pay: `out_trade_no` is the gateway payment id, `total_amount` yuan.
 * `time_expire` (absolute) wins over `timeout_express` at Alipay; both are sent, for products that know only one.
 */
export function tradeCreateBiz(payment: Payment, now: Date): Record<string, unknown> {
  const expiresAt = new Date(payment.expiresAt);
  const minutesLeft = Math.max(1, Math.ceil((expiresAt.getTime() - now.getTime()) / 60_000));
  return {
    out_trade_no: payment.id,
    total_amount: formatAmount(payment.amountMinor, payment.currency),
    subject: payment.subject,
    body: payment.description,
    product_code: PAY_METHODS[payment.method as AlipayPayMethod].productCode,
    time_expire: toShanghaiTime(expiresAt),
    timeout_express: `${minutesLeft}m`,
  };
}

/** Every response member carries these; `code` `10000` is success, anything else a (sub-coded) error. */
export const commonResponse = z.looseObject({
  code: z.string(),
  msg: z.optional(z.string()),
  sub_code: z.optional(z.string()),
  sub_msg: z.optional(z.string()),
});
/** A verified error answer: `code` (`40004` business failure, `40002` invalid arguments…) and `sub_code`. */
export type AlipayErrorBody = z.output<typeof commonResponse>;

/** `alipay.trade.precreate` success. */
export const precreateResponse = z.looseObject({ out_trade_no: z.string(), qr_code: z.string().check(z.minLength(1)) });

/** `alipay.trade.query` success. `trade_status` stays a string: unknown values go through the mapping's default. */
export const queryResponse = z.looseObject({
  out_trade_no: z.string(),
  trade_no: z.string().check(z.minLength(1)),
  trade_status: z.string(),
  total_amount: z.string(),
  send_pay_date: z.optional(z.string()),
});

/** `alipay.trade.close` success. */
export const closeResponse = z.looseObject({ out_trade_no: z.optional(z.string()), trade_no: z.optional(z.string()) });

/** `alipay.trade.refund` success: `fund_change` `Y` means this call moved the money (the refund is done). */
export const refundResponse = z.looseObject({
  out_trade_no: z.optional(z.string()),
  trade_no: z.optional(z.string()),
  refund_fee: z.optional(z.string()),
  fund_change: z.optional(z.string()),
});

/** `alipay.trade.fastpay.refund.query` success; an empty one means Alipay has no such refund (yet). */
export const refundQueryResponse = z.looseObject({
  out_request_no: z.optional(z.string()),
  refund_amount: z.optional(z.string()),
  refund_status: z.optional(z.string()),
});

/** The async notification form (`application/x-www-form-urlencoded`), after its signature verified. */
export const notificationForm = z.looseObject({
  notify_type: z.optional(z.string()),
  app_id: z.string(),
  trade_no: z.string().check(z.minLength(1)),
  out_trade_no: z.string().check(z.minLength(1)),
  trade_status: z.string(),
  total_amount: z.string(),
  gmt_payment: z.optional(z.string()),
  /** On a refund notification: the refund's `out_request_no`. */
  out_biz_no: z.optional(z.string()),
  refund_fee: z.optional(z.string()),
  gmt_refund: z.optional(z.string()),
});
/** The fields of a verified notification the adapter reads. */
export type AlipayNotification = z.output<typeof notificationForm>;

/** The `trade_status` values Alipay documents. */
export type TradeStatus = 'WAIT_BUYER_PAY' | 'TRADE_CLOSED' | 'TRADE_SUCCESS' | 'TRADE_FINISHED';

/**
 * THE mapping of Alipay's `trade_status` to a final payment status; `undefined` = nothing final to apply.
 *
 * - `TRADE_SUCCESS` / `TRADE_FINISHED` → `SUCCEEDED`. `TRADE_FINISHED` (no more refunds possible) also follows an
 *   earlier `TRADE_SUCCESS`: it is a second success, which `decideResult` treats as a duplicate.
 * - `TRADE_CLOSED` → `FAILED`. Alipay closes an unpaid trade on timeout or close, but ALSO a paid trade once fully
 *   refunded. A `FAILED` result only ever moves a `PENDING` payment (`decideResult` answers `duplicate` otherwise),
 *   so it cannot undo a `SUCCEEDED`/`REFUNDED` payment; refund notifications are mapped to refund results first.
 * - `WAIT_BUYER_PAY` → not final.
 * - anything else (explicit default) → not final, and logged, so a new status is noticed rather than guessed at.
 */
export function mapTradeStatus(status: string): ChannelPaymentResult['status'] | undefined {
  const known = status as TradeStatus;
  switch (known) {
    case 'TRADE_SUCCESS':
    case 'TRADE_FINISHED':
      return 'SUCCEEDED';
    case 'TRADE_CLOSED':
      return 'FAILED';
    case 'WAIT_BUYER_PAY':
      return undefined;
    default: {
      const unknown: never = known;
      logger.warn('unknown Alipay trade_status; treated as not final', { trade_status: String(unknown) });
      return undefined;
    }
  }
}

/** `refund_status` of a refund query: only `REFUND_SUCCESS` is final (absent = not received, or not done yet). */
export function mapRefundStatus(status: string | undefined): 'SUCCEEDED' | undefined {
  return status === 'REFUND_SUCCESS' ? 'SUCCEEDED' : undefined;
}

/** A yuan amount (`"100.00"`) in fen; `undefined` if it is not a valid positive CNY amount. */
export function yuanToMinor(value: string): number | undefined {
  try {
    return parseAmount(value, 'CNY').minor;
  } catch {
    return undefined;
  }
}

const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;
const SHANGHAI_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai, as Alipay's `timestamp` and `time_expire` want it. */
export function toShanghaiTime(date: Date): string {
  return new Date(date.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/** An Alipay time (`yyyy-MM-dd HH:mm:ss`, UTC+8) as ISO 8601 UTC; `undefined` if absent or malformed. */
export function fromShanghaiTime(value: string | undefined): string | undefined {
  const match = value ? SHANGHAI_TIME.exec(value) : null;
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, ...number[]];
  const utc = Date.UTC(year, month - 1, day, hour, minute, second) - SHANGHAI_OFFSET_MS;
  const iso = new Date(utc).toISOString();
  // Date.UTC rolls 2026-02-30 over to March: such a value is malformed, not a date.
  return toShanghaiTime(new Date(utc)) === value ? iso : undefined;
}

/**
 * Parses an `application/x-www-form-urlencoded` body into decoded values. A repeated key is rejected (`undefined`):
 * which of two values was signed would be ambiguous.
 */
export function parseForm(body: string): Record<string, string> | undefined {
  const form: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    if (Object.hasOwn(form, key)) return undefined;
    form[key] = value;
  }
  return form;
}
