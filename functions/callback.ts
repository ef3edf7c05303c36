import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { channelParts } from '#adapters/wiring/channels.ts';
import { eventRecords, paymentFlowParts, tableParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { applyRefundResult } from '#app/apply-refund-result.ts';
import { journalCallback, type ReceivedCallback } from '#app/callback-journal.ts';
import { assertCallbackSource } from '#app/callback-source.ts';
import type { CallbackAnswer, ChannelCallback, PaymentChannel } from '#app/ports.ts';
import type { Channel } from '#domain/payment.ts';
import { httpHandler } from '#http/handler.ts';
import type { HttpRequest } from '#http/request.ts';
import { errorResponse, json } from '#http/respond.ts';
import { AppError, NotFoundError } from '#shared/errors.ts';
import { logger } from '#shared/observability.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const table = tableParts(config, db);
  const base = { ...table, ...paymentFlowParts(table), ...eventRecords(table) };
  return { ...base, ...channelParts(base) };
});
type Wired = ReturnType<typeof wire>;
/** What verifying and applying a callback learnt, for its journal entry. */
type Seen = Pick<ReceivedCallback, 'callback' | 'refundPaymentId'>;

/** Callback path segment → channel code. */
const CALLBACK_CHANNELS: Record<string, Channel> = { sandbox: 'SANDBOX', alipay: 'ALIPAY', 'wechat-pay': 'WECHAT_PAY' };

/**
 * `POST /v1/callbacks/{channel}` — checks the source address against the channel's allowlist, verifies the
 * channel's signature, then applies the payment or refund result exactly once, and journals the raw callback (redacted)
 * under its payment. A forged callback changes nothing and gets the channel's own failure answer.
 */
export const handler = httpHandler({ auth: false, wire }, async (request, { container }) => {
  const code = CALLBACK_CHANNELS[request.pathParameters.channel ?? ''];
  const channel = code ? container.channels.get(code) : undefined;
  if (!channel) throw new NotFoundError(`no callback endpoint for channel ${request.pathParameters.channel}`);
  // Before any parsing or cryptography: an address the channel does not call from gets 403 and changes nothing.
  await assertCallbackSource(container, channel.code, request.sourceIp);
  const at = container.clock().toISOString();
  const started = performance.now();
  const seen: Seen = {};
  let answer: APIGatewayProxyStructuredResultV2 | CallbackAnswer;
  let failure: unknown;
  try {
    await verifyAndApply(container, channel, request, seen);
    answer = channel.answerCallback ? channel.answerCallback({ ok: true }) : json(200, { received: true });
  } catch (error) {
    if (!(error instanceof AppError)) logger.error('callback failed', error as Error);
    failure = error;
    answer = channel.answerCallback
      ? channel.answerCallback({ ok: false, error })
      : errorResponse(error, request.requestId);
  }
  await journalCallback(container, {
    channel: channel.code,
    headers: request.headers,
    body: request.body,
    at,
    latencyMs: Math.round(performance.now() - started),
    callback: seen.callback,
    refundPaymentId: seen.refundPaymentId,
    answerStatus: answer.statusCode ?? 200,
    answerBody: answer.body ?? '',
    error: failure,
  });
  return answer;
});

async function verifyAndApply(
  container: Wired,
  channel: PaymentChannel,
  request: HttpRequest,
  seen: Seen,
): Promise<void> {
  let callback: ChannelCallback;
  try {
    callback = await channel.verifyAndParseCallback({ headers: request.headers, body: request.body });
  } catch (error) {
    if (error instanceof AppError && error.httpStatus === 401) container.alarms.count('CallbackSignatureRejected');
    throw error;
  }
  seen.callback = callback;
  if (callback.kind === 'payment') await applyPaymentResult(container, callback.result, channel.code);
  else if (callback.kind === 'refund') {
    const { refund } = await applyRefundResult(container, callback.result, channel.code);
    seen.refundPaymentId = refund.paymentId;
  }
}
