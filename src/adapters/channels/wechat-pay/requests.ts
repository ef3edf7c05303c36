import type { KeyObject } from 'node:crypto';
import type { WechatPayConfig } from '#domain/channel-config.ts';
import type { PayMethod, Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { ValidationError } from '#shared/errors.ts';
import { jsapiPayMessage, newNonce, rsaSign } from './signing.ts';
import { outTradeNoOf, toWechatTime } from './transformers.ts';

/**
 * Payment metadata the WeChat Pay channel reads, because the contract's payment has no field for them:
 * `wechat_openid` — the payer's openid under `appId`, required for `JSAPI`;
 * `client_ip` — the payer's IP address, required for `H5` (`scene_info.payer_client_ip`).
 */
export const METADATA_KEYS = { openid: 'wechat_openid', clientIp: 'client_ip' } as const;

/** The WeChat Pay product each supported gateway method uses. */
export const PREPAY_KIND = { QR: 'native', JSAPI: 'jsapi', H5: 'h5' } as const satisfies Partial<
  Record<PayMethod, string>
>;
export type PrepayKind = (typeof PREPAY_KIND)[keyof typeof PREPAY_KIND];

/** The only currency WeChat Pay domestic merchants settle in. */
export const WECHAT_CURRENCY = 'CNY';

/** Whether the gateway method maps to a WeChat Pay product. */
export function isWechatMethod(method: PayMethod): method is keyof typeof PREPAY_KIND {
  return Object.hasOwn(PREPAY_KIND, method);
}

function truncate(text: string, maxChars: number): string {
  return Array.from(text).slice(0, maxChars).join('');
}

function requiredMetadata(payment: Payment, key: string): string {
  const value = payment.metadata[key];
  if (!value) {
    throw new ValidationError('VALIDATION_FAILED', `metadata.${key} is required for WECHAT_PAY ${payment.method}`, {
      field: `metadata.${key}`,
    });
  }
  return value;
}

function assertCny(currency: string): void {
  if (currency !== WECHAT_CURRENCY) {
    throw new ValidationError('CHANNEL_NOT_SUPPORTED', 'WECHAT_PAY takes CNY only', { currency });
  }
}

/** The prepay call of a payment: `POST /v3/pay/transactions/{native|jsapi|h5}` and its JSON body. */
export function prepayRequest(
  payment: Payment,
  config: WechatPayConfig,
): { kind: PrepayKind; path: string; body: Record<string, unknown> } {
  if (!isWechatMethod(payment.method)) {
    throw new ValidationError('CHANNEL_NOT_SUPPORTED', `WECHAT_PAY does not support ${payment.method}`);
  }
  assertCny(payment.currency);
  const kind = PREPAY_KIND[payment.method];
  const body: Record<string, unknown> = {
    appid: config.appId,
    mchid: config.mchId,
    description: truncate(payment.subject, 127),
    out_trade_no: outTradeNoOf(payment.id),
    time_expire: toWechatTime(payment.expiresAt),
    notify_url: config.notifyUrl,
    amount: { total: payment.amountMinor, currency: WECHAT_CURRENCY },
  };
  if (kind === 'jsapi') body.payer = { openid: requiredMetadata(payment, METADATA_KEYS.openid) };
  if (kind === 'h5') {
    body.scene_info = {
      payer_client_ip: requiredMetadata(payment, METADATA_KEYS.clientIp),
      h5_info: { type: 'Wap' },
    };
  }
  return { kind, path: `/v3/pay/transactions/${kind}`, body };
}

/** The body of `POST /v3/refund/domestic/refunds`: `out_refund_no` is the gateway refund id. */
export function refundRequest(refund: Refund, payment: Payment, config: WechatPayConfig): Record<string, unknown> {
  assertCny(refund.currency);
  return {
    out_trade_no: outTradeNoOf(payment.id),
    out_refund_no: refund.id,
    ...(refund.reason ? { reason: truncate(refund.reason, 80) } : {}),
    notify_url: config.notifyUrl,
    amount: { refund: refund.amountMinor, total: payment.amountMinor, currency: WECHAT_CURRENCY },
  };
}

/** What a page in WeChat passes to `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` / `wx.requestPayment`. */
export interface JsapiPayParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

/** Signs the JSAPI pay parameters of a prepay id with the merchant key over `appId\ntimeStamp\nnonceStr\npackage\n`. */
export function jsapiPayParams(appId: string, prepayId: string, merchantKey: KeyObject, now: Date): JsapiPayParams {
  const timeStamp = String(Math.floor(now.getTime() / 1000));
  const nonceStr = newNonce();
  const pkg = `prepay_id=${prepayId}`;
  const paySign = rsaSign(merchantKey, jsapiPayMessage(appId, timeStamp, nonceStr, pkg));
  return { appId, timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign };
}
