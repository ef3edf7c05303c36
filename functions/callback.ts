import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { applyRefundResult } from '#app/apply-refund-result.ts';
import { httpHandler } from '#http/handler.ts';
import { json } from '#http/respond.ts';
import { AppError, NotFoundError } from '#shared/errors.ts';

/** Callback path segment → channel code. */
const CALLBACK_CHANNELS = { sandbox: 'SANDBOX' } as const;

/**
 * `POST /v1/callbacks/{channel}` — verifies the channel's signature, then applies the payment or refund result
 * exactly once. A forged callback changes nothing and gets the channel's failure answer (401 for the sandbox).
 */
export const handler = httpHandler({ auth: false }, async (request, { container }) => {
  const code = CALLBACK_CHANNELS[request.pathParameters.channel as keyof typeof CALLBACK_CHANNELS];
  const channel = code ? container.channels.get(code) : undefined;
  if (!channel) throw new NotFoundError(`no callback endpoint for channel ${request.pathParameters.channel}`);
  let callback: Awaited<ReturnType<typeof channel.verifyAndParseCallback>>;
  try {
    callback = await channel.verifyAndParseCallback({ headers: request.headers, body: request.body });
  } catch (error) {
    if (error instanceof AppError && error.httpStatus === 401) container.alarms.count('CallbackSignatureRejected');
    throw error;
  }
  if (callback.kind === 'payment') {
    await applyPaymentResult(container, callback.result, channel.code);
  } else {
    await applyRefundResult(container, callback.result, channel.code);
  }
  return json(200, { received: true });
});
