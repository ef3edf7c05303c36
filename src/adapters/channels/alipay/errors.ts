import { ChannelRejectedError, ChannelResponseInvalidError } from '#shared/errors.ts';
import { ChannelUnavailableError } from '../channel-errors.ts';

/** Why Alipay could not be reached or did not answer usefully. */
export type AlipayUnavailableReason = 'timeout' | 'network' | 'http_status' | 'system_error';

/**
 * Alipay is unreachable: a network error, a timeout, a non-200 HTTP answer, or a verified "system busy" answer
 * (`code` 20000 / `ACQ.SYSTEM_ERROR`, which Alipay documents as "retry with the same request"). Retryable; channel
 * routing counts these as health failures (unlike {@link AlipayBusinessError}, which is Alipay saying no).
 */
export class AlipayUnavailableError extends ChannelUnavailableError<AlipayUnavailableReason> {
  constructor(
    reason: AlipayUnavailableReason,
    message: string,
    upstreamStatus?: number,
    options?: { cause?: unknown },
  ) {
    super('Alipay', reason, message, upstreamStatus, options);
  }
}

/** A verified Alipay business error the adapter has no typed meaning for (e.g. `isv.invalid-signature`). */
export class AlipayBusinessError extends ChannelRejectedError {
  constructor(
    readonly alipayCode: string,
    readonly subCode: string | undefined,
    method: string,
  ) {
    super(`Alipay rejected ${method}: ${alipayCode} ${subCode ?? ''}`.trim(), {
      channel: 'ALIPAY',
      channel_code: subCode ?? alipayCode,
    });
  }
}

/**
 * An Alipay answer that cannot be trusted: unsigned, a `sign` that does not verify with Alipay's public key, or a
 * body that is not what the API defines. Nothing of it is used.
 */
export class AlipayResponseInvalidError extends ChannelResponseInvalidError {
  constructor(reason: string) {
    super('Alipay', 'ALIPAY', reason);
  }
}
