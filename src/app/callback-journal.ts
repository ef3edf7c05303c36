import type { ChannelCallback, ChannelJournal, RefundRepository } from '#app/ports.ts';
import { redactHeaders, redactMessage } from '#domain/channel-journal.ts';
import type { Channel } from '#domain/payment.ts';
import { AppError } from '#shared/errors.ts';
import type { IdPrefix } from '#shared/ids.ts';
import { logger } from '#shared/observability.ts';

/** A callback as received and answered, for the journal. */
export interface ReceivedCallback {
  channel: Channel;
  headers: Record<string, string | undefined>;
  body: string;
  at: string;
  latencyMs: number;
  /** The verified callback; absent when verification failed (nothing in it can be trusted, not even its ids). */
  callback?: ChannelCallback;
  /** The payment of a refund callback's refund, when applying it read the refund (else it is read here). */
  refundPaymentId?: string;
  answerStatus: number;
  answerBody: string;
  error?: unknown;
}

/**
 * Journals a raw callback (redacted) under the payment it is about. Only a verified callback names its payment: a
 * forged or malformed one is logged (and counted, `CallbackSignatureRejected`) but never filed under an id its sender
 * chose. Never throws: the journal must not change a callback's answer.
 */
export async function journalCallback(
  deps: { journal: ChannelJournal; refunds: RefundRepository; newId: (prefix: IdPrefix) => string },
  received: ReceivedCallback,
): Promise<void> {
  try {
    const { callback } = received;
    const refundId = callback?.kind === 'refund' ? callback.result.refundId : undefined;
    const paymentId =
      callback?.kind === 'payment'
        ? callback.result.paymentId
        : refundId
          ? (received.refundPaymentId ?? (await deps.refunds.get(refundId))?.paymentId)
          : undefined;
    if (!paymentId) return;
    const { error } = received;
    deps.journal.record({
      id: deps.newId('jnl'),
      channel: received.channel,
      operation: 'callback',
      paymentId,
      ...(refundId ? { refundId } : {}),
      at: received.at,
      latencyMs: received.latencyMs,
      outcome: error ? 'ERROR' : 'OK',
      httpStatus: received.answerStatus,
      ...(error
        ? {
            errorCode: error instanceof AppError ? error.code : 'INTERNAL_ERROR',
            errorMessage: (error instanceof Error ? error.message : String(error)).slice(0, 512),
          }
        : {}),
      ...(callback?.kind === 'payment' && callback.result.channelTradeNo
        ? { channelTradeNo: callback.result.channelTradeNo }
        : {}),
      ...(callback?.kind === 'refund' && callback.result.channelRefundNo
        ? { channelRefundNo: callback.result.channelRefundNo }
        : {}),
      request: `${JSON.stringify(redactHeaders(received.headers))}\n${redactMessage(received.body)}`,
      response: redactMessage(received.answerBody),
    });
  } catch (failure) {
    logger.warn('callback journal failed', { channel: received.channel, error: String(failure) });
  }
}
