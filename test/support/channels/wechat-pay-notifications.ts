import { type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { encryptResource } from '#adapters/channels/wechat-pay/crypto.ts';
import { AUTH_SCHEME, newNonce, responseMessage, rsaSign } from '#adapters/channels/wechat-pay/signing.ts';
import { toWechatTime } from '#adapters/channels/wechat-pay/transformers.ts';
import type { LocalOrder, LocalRefund } from './wechat-pay-orders.ts';

/** A signed callback as WeChat Pay would POST it. */
export interface SignedNotification {
  headers: Record<string, string>;
  body: string;
}

/** The platform key the local server signs with, and the account's API v3 key it encrypts callbacks with. */
export interface PlatformSigner {
  serial: string;
  key: KeyObject;
  apiV3Key: string;
}

/** `Wechatpay-*` headers signing `signedBody` (the body itself unless a test wants a bad signature). */
export function wechatpayHeaders(signer: PlatformSigner, signedBody: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = newNonce();
  return {
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': nonce,
    'wechatpay-serial': signer.serial,
    'wechatpay-signature': rsaSign(signer.key, responseMessage(timestamp, nonce, signedBody)),
    'wechatpay-signature-type': AUTH_SCHEME,
  };
}

function notification(
  signer: PlatformSigner,
  event: { type: string; originalType: string; summary: string },
  resource: unknown,
): SignedNotification {
  const body = JSON.stringify({
    id: randomUUID(),
    create_time: toWechatTime(new Date().toISOString()),
    resource_type: 'encrypt-resource',
    event_type: event.type,
    summary: event.summary,
    resource: {
      original_type: event.originalType,
      ...encryptResource(JSON.stringify(resource), signer.apiV3Key, randomBytes(6).toString('hex'), event.originalType),
    },
  });
  return { headers: { ...wechatpayHeaders(signer, body), 'content-type': 'application/json' }, body };
}

/** The signed `TRANSACTION.SUCCESS` callback of a paid order. */
export function transactionNotification(signer: PlatformSigner, order: LocalOrder | undefined): SignedNotification {
  if (!order?.transaction_id) throw new Error(`order ${order?.out_trade_no} is not paid`);
  const { notify_url: _notifyUrl, time_expire: _timeExpire, description: _description, ...resource } = order;
  return notification(
    signer,
    { type: 'TRANSACTION.SUCCESS', originalType: 'transaction', summary: '支付成功' },
    { ...resource, trade_state: 'SUCCESS' },
  );
}

/** The signed `REFUND.SUCCESS|CLOSED|ABNORMAL` callback of a finished refund. */
export function refundNotification(
  signer: PlatformSigner,
  mchId: string,
  refund: LocalRefund | undefined,
): SignedNotification {
  if (!refund || refund.status === 'PROCESSING') throw new Error(`refund ${refund?.out_refund_no} is not finished`);
  const { status, amount, create_time: _created, notify_url: _notifyUrl, ...rest } = refund;
  return notification(
    signer,
    { type: `REFUND.${status}`, originalType: 'refund', summary: '退款结果' },
    {
      ...rest,
      mchid: mchId,
      refund_status: status,
      user_received_account: '支付用户零钱',
      amount: { total: amount.total, refund: amount.refund, payer_total: amount.total, payer_refund: amount.refund },
    },
  );
}
