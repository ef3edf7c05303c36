import type { ChannelPaymentResult } from '#domain/payment.ts';
import type { ChannelRefundResult } from '#domain/refund.ts';
import { logger } from '#shared/observability.ts';
import * as z from '#shared/zod.ts';
import { WechatPayResponseInvalidError } from './errors.ts';

// Wire types of WeChat Pay API v3. Objects are not strict: WeChat Pay adds fields over time. State fields are plain
// strings so that an unknown value reaches the mappings' explicit default instead of failing the parse.

const wechatTime = z.iso.datetime({ offset: true });

/** The body of every non-2xx answer. */
export const errorBodySchema = z.object({ code: z.string(), message: z.string() });
/** `POST /v3/pay/transactions/native` → the QR code content. */
export const nativePrepaySchema = z.object({ code_url: z.string().check(z.minLength(1)) });
/** `POST /v3/pay/transactions/jsapi` → the prepay id the payer's WeChat client pays. */
export const jsapiPrepaySchema = z.object({ prepay_id: z.string().check(z.minLength(1)) });
/** `POST /v3/pay/transactions/h5` → the mobile-browser payment page. */
export const h5PrepaySchema = z.object({ h5_url: z.string().check(z.minLength(1)) });

/** A transaction, as queried by `out-trade-no` and as decrypted from a `TRANSACTION.SUCCESS` callback. */
export const transactionSchema = z.object({
  appid: z.string(),
  mchid: z.string(),
  out_trade_no: z.string(),
  transaction_id: z.optional(z.string()),
  trade_type: z.optional(z.string()),
  trade_state: z.string(),
  trade_state_desc: z.optional(z.string()),
  success_time: z.optional(wechatTime),
  amount: z.optional(
    z.object({ total: z.optional(z.number().check(z.int(), z.nonnegative())), currency: z.optional(z.string()) }),
  ),
});
export type WechatTransaction = z.infer<typeof transactionSchema>;

/** A refund, as answered by `POST /v3/refund/domestic/refunds` and `GET …/refunds/{out_refund_no}`. */
export const refundSchema = z.object({
  refund_id: z.string(),
  out_refund_no: z.string(),
  out_trade_no: z.optional(z.string()),
  transaction_id: z.optional(z.string()),
  status: z.string(),
  success_time: z.optional(wechatTime),
  amount: z.optional(
    z.object({ refund: z.number().check(z.int()), total: z.number().check(z.int()), currency: z.optional(z.string()) }),
  ),
});
export type WechatRefund = z.infer<typeof refundSchema>;

/** The decrypted resource of a `REFUND.*` callback. */
export const refundNotificationSchema = z.object({
  mchid: z.string(),
  out_trade_no: z.string(),
  transaction_id: z.optional(z.string()),
  out_refund_no: z.string(),
  refund_id: z.string(),
  refund_status: z.string(),
  success_time: z.optional(wechatTime),
  amount: z.optional(z.object({ total: z.number().check(z.int()), refund: z.number().check(z.int()) })),
});
export type WechatRefundNotification = z.infer<typeof refundNotificationSchema>;

/** The envelope of every callback; `resource` is encrypted with the API v3 key. */
export const notificationSchema = z.object({
  id: z.string(),
  create_time: z.string(),
  event_type: z.string(),
  resource_type: z.string(),
  summary: z.optional(z.string()),
  resource: z.object({
    original_type: z.optional(z.string()),
    algorithm: z.string(),
    ciphertext: z.string(),
    associated_data: z.optional(z.string()),
    nonce: z.string(),
  }),
});

/** Every `trade_state` WeChat Pay documents. */
export const TRADE_STATES = ['SUCCESS', 'REFUND', 'NOTPAY', 'USERPAYING', 'CLOSED', 'REVOKED', 'PAYERROR'] as const;
export type TradeState = (typeof TRADE_STATES)[number];
/** A final channel status, or `undefined` while nothing is final. */
export type FinalStatus = 'SUCCEEDED' | 'FAILED' | undefined;

/**
 * THE `trade_state` mapping (exhaustive: the compiler rejects a missing state). `REFUND` means "paid, then (partly)
 * refunded": the payment succeeded, refunds are tracked on their own, so it must never turn a paid payment into a
 * failure. `NOTPAY`/`USERPAYING` are not final.
 */
const TRADE_STATE_STATUS = {
  SUCCESS: 'SUCCEEDED',
  REFUND: 'SUCCEEDED',
  NOTPAY: undefined,
  USERPAYING: undefined,
  CLOSED: 'FAILED',
  REVOKED: 'FAILED',
  PAYERROR: 'FAILED',
} as const satisfies Record<TradeState, FinalStatus>;

/** Maps a `trade_state`; an undocumented one is not final (explicit default) and is logged. */
export function mapTradeState(state: string): FinalStatus {
  if (Object.hasOwn(TRADE_STATE_STATUS, state)) return TRADE_STATE_STATUS[state as TradeState];
  logger.warn('unknown WeChat Pay trade_state; treated as not final', { trade_state: state });
  return undefined;
}

/** Every refund `status` WeChat Pay documents. */
export const REFUND_STATUSES = ['SUCCESS', 'PROCESSING', 'CLOSED', 'ABNORMAL'] as const;
export type RefundState = (typeof REFUND_STATUSES)[number];

/** THE refund status mapping: `CLOSED` and `ABNORMAL` (money could not reach the payer) fail the refund. */
const REFUND_STATUS = {
  SUCCESS: 'SUCCEEDED',
  PROCESSING: undefined,
  CLOSED: 'FAILED',
  ABNORMAL: 'FAILED',
} as const satisfies Record<RefundState, FinalStatus>;

/** Maps a refund `status`; an undocumented one is not final (explicit default) and is logged. */
export function mapRefundStatus(status: string): FinalStatus {
  if (Object.hasOwn(REFUND_STATUS, status)) return REFUND_STATUS[status as RefundState];
  logger.warn('unknown WeChat Pay refund status; treated as not final', { refund_status: status });
  return undefined;
}

const PAYMENT_PREFIX = 'pay_';

/**
 * The `out_trade_no` of a gateway payment: its id without the `pay_` prefix, because WeChat Pay allows 6–32
 * characters and gateway ids are `pay_` + 32. {@link paymentIdOf} reverses it.
 */
export function outTradeNoOf(paymentId: string): string {
  const outTradeNo = paymentId.slice(PAYMENT_PREFIX.length);
  if (!paymentId.startsWith(PAYMENT_PREFIX) || !/^[A-Za-z0-9]{6,32}$/.test(outTradeNo)) {
    throw new Error(`payment id ${paymentId} cannot be a WeChat Pay out_trade_no`);
  }
  return outTradeNo;
}

/** The gateway payment id of a WeChat Pay `out_trade_no`. */
export function paymentIdOf(outTradeNo: string): string {
  return `${PAYMENT_PREFIX}${outTradeNo}`;
}

/** An ISO instant as WeChat Pay's RFC 3339 time in Beijing time (`2026-11-22T18:00:00+08:00`), to the second. */
export function toWechatTime(iso: string): string {
  return `${new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;
}

/** A WeChat Pay RFC 3339 time (any offset) as ISO 8601 UTC with milliseconds. */
export function fromWechatTime(rfc3339: string): string {
  return new Date(rfc3339).toISOString();
}

/**
 * A transaction's payment result, or `undefined` while it is not final. Throws when a final transaction lacks the
 * amount or (on success) the transaction id, which WeChat Pay always sends with a final state.
 */
export function toPaymentResult(transaction: WechatTransaction): ChannelPaymentResult | undefined {
  const status = mapTradeState(transaction.trade_state);
  if (!status) return undefined;
  const total = transaction.amount?.total;
  if (total === undefined || (status === 'SUCCEEDED' && !transaction.transaction_id)) {
    throw new WechatPayResponseInvalidError(`final transaction ${transaction.out_trade_no} lacks amount or id`);
  }
  return {
    paymentId: paymentIdOf(transaction.out_trade_no),
    status,
    amountMinor: total,
    currency: transaction.amount?.currency ?? 'CNY',
    // An order closed before anyone paid has no WeChat transaction id.
    channelTradeNo: transaction.transaction_id ?? '',
    paidAt: status === 'SUCCEEDED' && transaction.success_time ? fromWechatTime(transaction.success_time) : undefined,
  };
}

/** A refund's result (from an answer or a callback), or `undefined` while it is processing. */
export function toRefundResult(refund: {
  out_refund_no: string;
  refund_id: string;
  status: string;
}): ChannelRefundResult | undefined {
  const status = mapRefundStatus(refund.status);
  return status ? { refundId: refund.out_refund_no, status, channelRefundNo: refund.refund_id } : undefined;
}

/** `GET /v3/bill/tradebill` → where the day's trade bill is downloaded, and the SHA1 of its bytes. */
export const tradeBillSchema = z.object({
  hash_type: z.string(),
  hash_value: z.string().check(z.minLength(1)),
  download_url: z.string().check(z.minLength(1)),
});
