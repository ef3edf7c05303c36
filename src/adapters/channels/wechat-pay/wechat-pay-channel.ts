import type { CallbackAnswer, ChannelCallback, ChannelPrepay, PaymentChannel, RefundSubmission } from '#app/ports.ts';
import type { WechatPayConfig } from '#domain/channel-config.ts';
import type { ChannelPaymentResult, Payment } from '#domain/payment.ts';
import type { ChannelRefundResult, Refund } from '#domain/refund.ts';
import { answerWechatPayCallback, type CallbackRequest, parseWechatPayCallback } from './callbacks.ts';
import { decodeAnswer, WechatPayClient, type WechatPayClientOptions } from './client.ts';
import { WechatPayBusinessError, WechatPayResponseInvalidError } from './errors.ts';
import { isWechatMethod, jsapiPayParams, prepayRequest, refundRequest, WECHAT_CURRENCY } from './requests.ts';
import {
  h5PrepaySchema,
  jsapiPrepaySchema,
  mapTradeState,
  nativePrepaySchema,
  outTradeNoOf,
  refundSchema,
  toPaymentResult,
  toRefundResult,
  transactionSchema,
  type WechatTransaction,
} from './transformers.ts';

/** The account's configuration, or a loader of it, asked before every call (it caches; see `ChannelAccounts`). */
export type WechatPayConfigSource = WechatPayConfig | (() => Promise<WechatPayConfig>);

/**
 * The WeChat Pay API v3 channel (direct merchant). Methods: `QR` (Native: `qrCode` = `code_url`), `H5` (`payUrl` =
 * `h5_url`; needs `metadata.client_ip`) and `JSAPI` (needs `metadata.wechat_openid`; `clientParams` carries the signed
 * pay parameters, see {@link jsapiPayParams}). CNY only. `out_trade_no` is the payment id without
 * `pay_`; `out_refund_no` is the refund id. Answers and callbacks are verified before anything in them is read.
 */
export class WechatPayChannel implements PaymentChannel {
  readonly code = 'WECHAT_PAY' as const;
  private session?: { config: WechatPayConfig; client: WechatPayClient };

  constructor(
    private readonly config: WechatPayConfigSource,
    private readonly options: WechatPayClientOptions = {},
  ) {}

  supports(method: Payment['method'], currency: string): boolean {
    return currency === WECHAT_CURRENCY && isWechatMethod(method);
  }

  async createPayment(payment: Payment): Promise<ChannelPrepay> {
    const { config, client } = await this.load();
    const request = prepayRequest(payment, config);
    const answer = await client.request('POST', request.path, request.body);
    switch (request.kind) {
      case 'native':
        return { qrCode: decodeAnswer(nativePrepaySchema, answer).code_url };
      case 'h5':
        return { payUrl: decodeAnswer(h5PrepaySchema, answer).h5_url };
      case 'jsapi': {
        const prepayId = decodeAnswer(jsapiPrepaySchema, answer).prepay_id;
        return { clientParams: { ...jsapiPayParams(config.appId, prepayId, client.merchantKey, client.clock()) } };
      }
    }
  }

  async queryPayment(payment: Payment): Promise<ChannelPaymentResult | undefined> {
    const transaction = await this.transactionOf(payment);
    return transaction && toPaymentResult(transaction);
  }

  /** Closes the order; if WeChat Pay refuses (e.g. `ORDERPAID`), the order's state decides `paid` or `closed`. */
  async closePayment(payment: Payment): Promise<'closed' | 'paid'> {
    const { config, client } = await this.load();
    try {
      await client.request('POST', `/v3/pay/transactions/out-trade-no/${outTradeNoOf(payment.id)}/close`, {
        mchid: config.mchId,
      });
      return 'closed';
    } catch (error) {
      if (!(error instanceof WechatPayBusinessError)) throw error;
      const transaction = await this.transactionOf(payment);
      // Never registered at WeChat Pay (the prepay call failed): nothing there can be paid.
      if (!transaction) return 'closed';
      const status = mapTradeState(transaction.trade_state);
      if (status === 'SUCCEEDED') return 'paid';
      if (status === 'FAILED') return 'closed';
      throw error;
    }
  }

  async refund(refund: Refund, payment: Payment): Promise<RefundSubmission> {
    const { config, client } = await this.load();
    const answer = await client.request('POST', '/v3/refund/domestic/refunds', refundRequest(refund, payment, config));
    const wire = decodeAnswer(refundSchema, answer);
    if (wire.out_refund_no !== refund.id) throw new WechatPayResponseInvalidError('answer is for another refund');
    const result = toRefundResult(wire);
    return { status: result?.status ?? 'PROCESSING', channelRefundNo: wire.refund_id };
  }

  async queryRefund(refund: Refund): Promise<ChannelRefundResult | undefined> {
    const { client } = await this.load();
    try {
      const answer = await client.request('GET', `/v3/refund/domestic/refunds/${encodeURIComponent(refund.id)}`);
      const wire = decodeAnswer(refundSchema, answer);
      if (wire.out_refund_no !== refund.id) throw new WechatPayResponseInvalidError('answer is for another refund');
      return toRefundResult(wire);
    } catch (error) {
      if (error instanceof WechatPayBusinessError && error.wechatCode === 'RESOURCE_NOT_EXISTS') return undefined;
      throw error;
    }
  }

  /** Verifies the signature FIRST, then decrypts and maps the callback; see {@link parseWechatPayCallback}. */
  async verifyAndParseCallback(request: CallbackRequest): Promise<ChannelCallback> {
    const { config, client } = await this.load();
    return parseWechatPayCallback(request, config, client.keyring, client.clock());
  }

  /** `204` acknowledges; a 4xx/5xx with `{"code":"FAIL",…}` makes WeChat Pay retry. */
  answerCallback(outcome: { ok: true } | { ok: false; error: unknown }): CallbackAnswer {
    return answerWechatPayCallback(outcome);
  }

  /** The order at WeChat Pay by `out_trade_no`; `undefined` if WeChat Pay never saw it (`ORDER_NOT_EXIST`). */
  private async transactionOf(payment: Payment): Promise<WechatTransaction | undefined> {
    const { config, client } = await this.load();
    const outTradeNo = outTradeNoOf(payment.id);
    try {
      const answer = await client.request(
        'GET',
        `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${encodeURIComponent(config.mchId)}`,
      );
      const transaction = decodeAnswer(transactionSchema, answer);
      if (
        transaction.out_trade_no !== outTradeNo ||
        transaction.mchid !== config.mchId ||
        transaction.appid !== config.appId
      ) {
        throw new WechatPayResponseInvalidError('answer is for another order');
      }
      return transaction;
    } catch (error) {
      if (error instanceof WechatPayBusinessError && error.wechatCode === 'ORDER_NOT_EXIST') return undefined;
      throw error;
    }
  }

  /**
   * The configuration and its client. A loader is asked on every call (it caches, see `ChannelAccounts`); the client
   * is rebuilt only when the loader hands back a different configuration, e.g. after a key rotation.
   */
  private async load(): Promise<{ config: WechatPayConfig; client: WechatPayClient }> {
    const source = this.config;
    const config = typeof source === 'function' ? await source() : source;
    if (this.session?.config !== config) this.session = { config, client: new WechatPayClient(config, this.options) };
    return this.session;
  }
}
