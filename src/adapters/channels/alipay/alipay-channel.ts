import type { CallbackAnswer, ChannelCallback, ChannelPrepay, PaymentChannel, RefundSubmission } from '#app/ports.ts';
import type { AlipayConfig } from '#domain/channel-config.ts';
import { formatAmount } from '#domain/money.ts';
import type { ChannelPaymentResult, Payment } from '#domain/payment.ts';
import type { ChannelRefundResult, Refund } from '#domain/refund.ts';
import { ValidationError } from '#shared/errors.ts';
import { AlipayClient, type AlipayClientOptions } from './client.ts';
import { AlipayBusinessError, AlipayResponseInvalidError } from './errors.ts';
import { parseNotification } from './notification.ts';
import {
  type AlipayErrorBody,
  type AlipayPayMethod,
  closeResponse,
  fromShanghaiTime,
  mapRefundStatus,
  mapTradeStatus,
  PAY_METHODS,
  precreateResponse,
  queryResponse,
  refundQueryResponse,
  refundResponse,
  tradeCreateBiz,
  yuanToMinor,
} from './transformers.ts';

/**
 * The Alipay open-platform channel (RSA2): QR (`alipay.trade.precreate`), PC page and mobile WAP cashier (a signed
 * gateway URL the buyer opens), in CNY. `out_trade_no` is the gateway payment id and `out_request_no` the refund id,
 * so every call is idempotent at Alipay. Results come by async notification and by query.
 */
export class AlipayChannel implements PaymentChannel {
  readonly code = 'ALIPAY' as const;
  private current?: AlipayClient;

  /**
   * @param config the account, or a loader of it (e.g. from Secrets Manager), asked before every call
   * @param options timeouts and test seams of the HTTP client
   */
  constructor(
    private readonly config: AlipayConfig | (() => Promise<AlipayConfig>),
    private readonly options: AlipayClientOptions = {},
  ) {}

  supports(method: Payment['method'], currency: string): boolean {
    return Object.hasOwn(PAY_METHODS, method) && currency === 'CNY';
  }

  async createPayment(payment: Payment): Promise<ChannelPrepay> {
    if (!this.supports(payment.method, payment.currency)) {
      throw new ValidationError('CHANNEL_NOT_SUPPORTED', 'Alipay takes QR, PAGE and WAP payments in CNY', {
        channel: 'ALIPAY',
        method: payment.method,
        currency: payment.currency,
      });
    }
    const api = PAY_METHODS[payment.method as AlipayPayMethod].api;
    const biz = tradeCreateBiz(payment, this.options.now?.() ?? new Date());
    const client = await this.client();
    const notifyUrl = client.config.notifyUrl;
    if (api !== 'alipay.trade.precreate') {
      return { payUrl: client.pageUrl(api, biz, { notify_url: notifyUrl, return_url: payment.returnUrl }) };
    }
    const reply = await client.call(api, biz, precreateResponse, { notify_url: notifyUrl });
    if (!reply.ok) throw rejected(api, reply.error);
    return { qrCode: reply.body.qr_code };
  }

  async queryPayment(payment: Payment): Promise<ChannelPaymentResult | undefined> {
    const api = 'alipay.trade.query';
    const reply = await (await this.client()).call(api, { out_trade_no: payment.id }, queryResponse);
    if (!reply.ok) {
      if (reply.error.sub_code === 'ACQ.TRADE_NOT_EXIST') return undefined;
      throw rejected(api, reply.error);
    }
    const trade = reply.body;
    const amountMinor = yuanToMinor(trade.total_amount);
    if (trade.out_trade_no !== payment.id || amountMinor === undefined) {
      throw new AlipayResponseInvalidError(`${api}: not an answer about trade ${payment.id}`);
    }
    const status = mapTradeStatus(trade.trade_status);
    if (!status) return undefined;
    return {
      paymentId: payment.id,
      status,
      amountMinor,
      currency: 'CNY',
      channelTradeNo: trade.trade_no,
      paidAt: status === 'SUCCEEDED' ? fromShanghaiTime(trade.send_pay_date) : undefined,
    };
  }

  /**
   * `ACQ.TRADE_NOT_EXIST` (a QR nobody scanned yet) counts as closed; `ACQ.TRADE_HAS_SUCCESS` as paid. Alipay also
   * answers `ACQ.TRADE_STATUS_ERROR` for a trade already paid OR already closed, so that one is settled by a query.
   */
  async closePayment(payment: Payment): Promise<'closed' | 'paid'> {
    const api = 'alipay.trade.close';
    const reply = await (await this.client()).call(api, { out_trade_no: payment.id }, closeResponse);
    if (reply.ok) return 'closed';
    switch (reply.error.sub_code) {
      case 'ACQ.TRADE_NOT_EXIST':
        return 'closed';
      case 'ACQ.TRADE_HAS_SUCCESS':
        return 'paid';
      case 'ACQ.TRADE_STATUS_ERROR':
        return (await this.queryPayment(payment))?.status === 'SUCCEEDED' ? 'paid' : 'closed';
      default:
        throw rejected(api, reply.error);
    }
  }

  /**
   * Alipay refunds synchronously: `fund_change` `Y` is final. `N` (e.g. a retry of a refund already done) is
   * confirmed by query. A `40004` business failure is Alipay refusing the refund (`FAILED`); configuration errors
   * and "system busy" throw, so the refund stays `PROCESSING` and a retry with the same `out_request_no` is safe.
   */
  async refund(refund: Refund, payment: Payment): Promise<RefundSubmission> {
    const api = 'alipay.trade.refund';
    const biz = {
      out_trade_no: payment.id,
      out_request_no: refund.id,
      refund_amount: formatAmount(refund.amountMinor, refund.currency),
      refund_reason: refund.reason,
    };
    const reply = await (await this.client()).call(api, biz, refundResponse);
    if (reply.ok) return { status: reply.body.fund_change === 'Y' ? 'SUCCEEDED' : 'PROCESSING' };
    if (reply.error.code === '40004') return { status: 'FAILED' };
    throw rejected(api, reply.error);
  }

  async queryRefund(refund: Refund): Promise<ChannelRefundResult | undefined> {
    const api = 'alipay.trade.fastpay.refund.query';
    const biz = { out_trade_no: refund.paymentId, out_request_no: refund.id };
    const reply = await (await this.client()).call(api, biz, refundQueryResponse);
    if (!reply.ok) {
      if (reply.error.sub_code === 'ACQ.TRADE_NOT_EXIST') return undefined;
      throw rejected(api, reply.error);
    }
    const status = mapRefundStatus(reply.body.refund_status);
    return status ? { refundId: refund.id, status } : undefined;
  }

  /**
   * Verifies the notification's RSA2 signature FIRST (`401 CALLBACK_SIGNATURE_INVALID`, nothing parsed), checks
   * `app_id`, then maps it; a verified notification with nothing to apply is `ignored` (acknowledged `success`).
   */
  async verifyAndParseCallback(request: {
    headers: Record<string, string | undefined>;
    body: string;
  }): Promise<ChannelCallback> {
    return parseNotification(request.body, await this.client());
  }

  /** Alipay's protocol: body `success` stops the resends; anything else (`fail`) makes Alipay retry for ~25 h. */
  answerCallback(outcome: { ok: true } | { ok: false; error: unknown }): CallbackAnswer {
    const acknowledged = outcome.ok;
    return {
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: acknowledged ? 'success' : 'fail',
    };
  }

  /**
   * The client of the current configuration. A loader is asked on every call (it caches, see `ChannelAccounts`);
   * the client is rebuilt only when the loader hands back a different configuration, e.g. after a key rotation.
   */
  private async client(): Promise<AlipayClient> {
    const source = this.config;
    const config = typeof source === 'function' ? await source() : source;
    if (this.current?.config !== config) this.current = new AlipayClient(config, this.options);
    return this.current;
  }
}

function rejected(method: string, error: AlipayErrorBody): AlipayBusinessError {
  return new AlipayBusinessError(error.code, error.sub_code, method);
}
