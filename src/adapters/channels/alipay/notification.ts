import type { ChannelCallback } from '#app/ports.ts';
import { AuthError, ValidationError } from '#shared/errors.ts';
import type { AlipayClient } from './client.ts';
import { fromShanghaiTime, mapTradeStatus, notificationForm, parseForm, yuanToMinor } from './transformers.ts';

const GATEWAY_REFUND_ID = /^ref_[A-Za-z0-9]{1,64}$/;

/**
 * Verifies and maps an async notification (`trade_status_sync`, an `application/x-www-form-urlencoded` body).
 *
 * 1. Parse the form (a repeated key is treated as forged) and verify `sign` with Alipay's public key, before
 *    anything else is read: failure → `401 CALLBACK_SIGNATURE_INVALID`.
 * 2. `app_id` must be this account's (`401 CALLBACK_APP_MISMATCH`).
 * 3. A refund notification (`out_biz_no` + `gmt_refund`: the refund's `out_request_no`) → a refund result; one for a
 *    refund the gateway did not make is ignored.
 * 4. Otherwise `trade_status` through THE mapping: final → a payment result (`out_trade_no` is the payment id,
 *    `gmt_payment` its paid-at); not final → ignored.
 */
export function parseNotification(body: string, client: AlipayClient): ChannelCallback {
  const form = parseForm(body);
  if (!form || !client.verifyNotification(form)) {
    throw new AuthError('CALLBACK_SIGNATURE_INVALID', 'Alipay notification signature does not verify');
  }
  if (form.app_id !== client.config.appId) {
    throw new AuthError('CALLBACK_APP_MISMATCH', 'Alipay notification is for another app_id');
  }
  const parsed = notificationForm.safeParse(form);
  if (!parsed.success) throw new ValidationError('CALLBACK_INVALID', 'Alipay notification lacks required fields');
  const notification = parsed.data;

  if (notification.out_biz_no && notification.gmt_refund) {
    if (!GATEWAY_REFUND_ID.test(notification.out_biz_no)) return { kind: 'ignored', reason: 'refund made elsewhere' };
    return { kind: 'refund', result: { refundId: notification.out_biz_no, status: 'SUCCEEDED' } };
  }
  const status = mapTradeStatus(notification.trade_status);
  if (!status) return { kind: 'ignored', reason: `trade_status ${notification.trade_status} is not final` };
  const amountMinor = yuanToMinor(notification.total_amount);
  if (amountMinor === undefined) throw new ValidationError('CALLBACK_INVALID', 'Alipay total_amount is not an amount');
  return {
    kind: 'payment',
    result: {
      paymentId: notification.out_trade_no,
      status,
      amountMinor,
      currency: 'CNY',
      channelTradeNo: notification.trade_no,
      paidAt: status === 'SUCCEEDED' ? fromShanghaiTime(notification.gmt_payment) : undefined,
    },
  };
}
