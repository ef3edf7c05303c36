import type { CallbackAnswer, ChannelCallback } from '#app/ports.ts';
import { parseInput, parseJsonText } from '#app/validation.ts';
import type { WechatPayConfig } from '#domain/channel-config.ts';
import { AppError, AuthError, ValidationError } from '#shared/errors.ts';
import { decryptResource } from './crypto.ts';
import { type PlatformKeyring, verifyWechatpaySignature } from './signing.ts';
import {
  notificationSchema,
  refundNotificationSchema,
  toPaymentResult,
  toRefundResult,
  transactionSchema,
} from './transformers.ts';

/** A callback as the HTTP layer hands it over: headers and the raw body, untouched. */
export interface CallbackRequest {
  headers: Record<string, string | undefined>;
  body: string;
}

function rejected(reason: string): AuthError {
  return new AuthError('CALLBACK_SIGNATURE_INVALID', reason);
}

/**
 * Verifies a WeChat Pay v3 callback and maps it to the gateway's callback:
 * 1. `Wechatpay-Signature` over the raw body (headers, serial, timestamp window, no SIGNTEST probe) — FIRST;
 * 2. decrypt `resource` (AEAD_AES_256_GCM, API v3 key);
 * 3. `TRANSACTION.SUCCESS` → payment result (its `mchid`/`appid` must be this account's);
 *    `REFUND.SUCCESS|ABNORMAL|CLOSED` → refund result (its `mchid` must be this account's).
 * Failures of 1–2 and a foreign account are `401 CALLBACK_SIGNATURE_INVALID`; another event type is
 * `400 CALLBACK_EVENT_UNSUPPORTED`. The decrypted resource is never logged.
 */
export function parseWechatPayCallback(
  request: CallbackRequest,
  config: WechatPayConfig,
  keyring: PlatformKeyring,
  now: Date,
): ChannelCallback {
  const check = verifyWechatpaySignature(keyring, request.headers, request.body, now);
  if (!check.ok) throw rejected(check.reason);
  const envelope = parseInput(notificationSchema, parseJsonText(request.body, 'callback body'));
  let plaintext: string;
  try {
    plaintext = decryptResource(envelope.resource, config.apiV3Key);
  } catch {
    throw rejected('callback resource does not decrypt with the API v3 key');
  }
  const resource = parseJsonText(plaintext, 'callback body');
  switch (envelope.event_type) {
    case 'TRANSACTION.SUCCESS': {
      const transaction = parseInput(transactionSchema, resource);
      if (transaction.mchid !== config.mchId || transaction.appid !== config.appId) {
        throw rejected('callback is for another merchant account or app');
      }
      const result = toPaymentResult(transaction);
      if (result?.status !== 'SUCCEEDED') {
        throw new ValidationError('CALLBACK_INVALID', 'TRANSACTION.SUCCESS without a successful trade_state');
      }
      return { kind: 'payment', result };
    }
    case 'REFUND.SUCCESS':
    case 'REFUND.ABNORMAL':
    case 'REFUND.CLOSED': {
      const notice = parseInput(refundNotificationSchema, resource);
      if (notice.mchid !== config.mchId) throw rejected('callback is for another merchant account');
      const result = toRefundResult({ ...notice, status: notice.refund_status });
      if (!result) throw new ValidationError('CALLBACK_INVALID', `${envelope.event_type} without a final status`);
      return { kind: 'refund', result };
    }
    default:
      throw new ValidationError('CALLBACK_EVENT_UNSUPPORTED', `WeChat Pay event ${envelope.event_type} is not handled`);
  }
}

/**
 * WeChat Pay v3's callback answers: `204` without a body acknowledges; a 4xx/5xx with `{"code":"FAIL","message":…}`
 * makes WeChat Pay retry. The message is the error's contract code, never its details.
 */
export function answerWechatPayCallback(outcome: { ok: true } | { ok: false; error: unknown }): CallbackAnswer {
  if (outcome.ok) return { statusCode: 204, body: '' };
  const known = outcome.error instanceof AppError ? outcome.error : undefined;
  const statusCode = known && known.httpStatus >= 400 && known.httpStatus <= 599 ? known.httpStatus : 500;
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'FAIL', message: known?.code ?? 'INTERNAL_ERROR' }),
  };
}
