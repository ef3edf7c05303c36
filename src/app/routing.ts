import type { PaymentChannel } from '#app/ports.ts';
import type { Channel, PayMethod } from '#domain/payment.ts';
import { UnavailableError, ValidationError } from '#shared/errors.ts';

/**
 * Chooses the channel for a new payment: the one the merchant named (it must be enabled and support the method and
 * currency), or else the first enabled channel that does. Weighted, health-aware routing builds on this.
 */
export function pickChannel(
  channels: ReadonlyMap<Channel, PaymentChannel>,
  request: { channel?: Channel | null; method?: PayMethod | null; currency: string },
): PaymentChannel {
  const method = request.method ?? (request.channel === 'BALANCE' ? 'BALANCE' : 'QR');
  if (request.channel) {
    const named = channels.get(request.channel);
    if (!named) {
      throw new ValidationError('CHANNEL_NOT_SUPPORTED', `channel ${request.channel} is not enabled for this gateway`, {
        channel: request.channel,
      });
    }
    if (!named.supports(method, request.currency)) {
      throw new ValidationError('CHANNEL_NOT_SUPPORTED', `channel ${request.channel} does not support this payment`, {
        channel: request.channel,
        method,
        currency: request.currency,
      });
    }
    return named;
  }
  for (const candidate of channels.values()) {
    if (candidate.supports(method, request.currency)) return candidate;
  }
  throw new UnavailableError('NO_CHANNEL_AVAILABLE', `no channel can take a ${method} payment in ${request.currency}`);
}
