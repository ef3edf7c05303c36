import { channelParts } from '#adapters/wiring/channels.ts';
import { dynamoParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { applyRefundResult } from '#app/apply-refund-result.ts';
import { assertCallbackSource } from '#app/callback-source.ts';
import type { PaymentChannel } from '#app/ports.ts';
import type { Channel } from '#domain/payment.ts';
import { httpHandler } from '#http/handler.ts';
import type { HttpRequest } from '#http/request.ts';
import { json } from '#http/respond.ts';
import { AppError, NotFoundError } from '#shared/errors.ts';
import { logger } from '#shared/observability.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const base = dynamoParts(config, db);
  return { ...base, ...channelParts(base) };
});
type Wired = ReturnType<typeof wire>;

/** Callback path segment → channel code. */
const CALLBACK_CHANNELS: Record<string, Channel> = { sandbox: 'SANDBOX', alipay: 'ALIPAY', 'wechat-pay': 'WECHAT_PAY' };

/**
 * `POST /v1/callbacks/{channel}` — checks the source address against the channel's allowlist, verifies the
 * channel's signature, then applies the payment or refund result
 * exactly once. A forged callback changes nothing and gets the channel's own failure answer.
 */
export const handler = httpHandler({ auth: false, wire }, async (request, { container }) => {
  const code = CALLBACK_CHANNELS[request.pathParameters.channel ?? ''];
  const channel = code ? container.channels.get(code) : undefined;
  if (!channel) throw new NotFoundError(`no callback endpoint for channel ${request.pathParameters.channel}`);
  // Before any parsing or cryptography: an address the channel does not call from gets 403 and changes nothing.
  await assertCallbackSource(container, channel.code, request.sourceIp);
  try {
    await verifyAndApply(container, channel, request);
  } catch (error) {
    if (!channel.answerCallback) throw error;
    if (!(error instanceof AppError)) logger.error('callback failed', error as Error);
    return channel.answerCallback({ ok: false, error });
  }
  return channel.answerCallback ? channel.answerCallback({ ok: true }) : json(200, { received: true });
});

async function verifyAndApply(container: Wired, channel: PaymentChannel, request: HttpRequest): Promise<void> {
  let callback: Awaited<ReturnType<PaymentChannel['verifyAndParseCallback']>>;
  try {
    callback = await channel.verifyAndParseCallback({ headers: request.headers, body: request.body });
  } catch (error) {
    if (error instanceof AppError && error.httpStatus === 401) container.alarms.count('CallbackSignatureRejected');
    throw error;
  }
  if (callback.kind === 'payment') await applyPaymentResult(container, callback.result, channel.code);
  else if (callback.kind === 'refund') await applyRefundResult(container, callback.result, channel.code);
}
