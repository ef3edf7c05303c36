import { ChannelRejectedError, ChannelResponseInvalidError } from '#shared/errors.ts';
import { ChannelUnavailableError } from '../channel-errors.ts';

/** Why WeChat Pay could not be reached or did not answer usefully. */
export type UnavailableReason = 'timeout' | 'network' | 'http_status';

/**
 * WeChat Pay is unreachable: a network error, a timeout, or an HTTP 5xx / 429 answer. Retryable; channel routing
 * counts these as health failures (unlike {@link WechatPayBusinessError}, which is WeChat Pay saying no).
 */
export class WechatPayUnavailableError extends ChannelUnavailableError<UnavailableReason> {
  constructor(reason: UnavailableReason, message: string, upstreamStatus?: number, options?: { cause?: unknown }) {
    super('WeChat Pay', reason, message, upstreamStatus, options);
  }
}

/** WeChat Pay answered a verified 4xx with its `{code, message}` body (e.g. `ORDER_NOT_EXIST`, `PARAM_ERROR`). */
export class WechatPayBusinessError extends ChannelRejectedError {
  constructor(
    readonly upstreamStatus: number,
    readonly wechatCode: string,
    wechatMessage: string,
  ) {
    super(`WeChat Pay rejected the request: ${wechatCode} ${wechatMessage}`, {
      channel: 'WECHAT_PAY',
      channel_code: wechatCode,
    });
  }
}

/** A WeChat Pay answer whose `Wechatpay-*` signature did not verify, or whose body is not what the API defines. */
export class WechatPayResponseInvalidError extends ChannelResponseInvalidError {
  constructor(reason: string) {
    super('WeChat Pay', 'WECHAT_PAY', reason);
  }
}
