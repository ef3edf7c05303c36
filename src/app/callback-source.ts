import type { AlarmMetrics, ChannelProfiles } from '#app/ports.ts';
import { sourceAllowed } from '#domain/callback-allowlist.ts';
import type { Channel } from '#domain/payment.ts';
import { ForbiddenError } from '#shared/errors.ts';
import { logger } from '#shared/observability.ts';

/**
 * Refuses a callback whose source address is outside its channel's allowlist — `403 CALLBACK_SOURCE_FORBIDDEN` and
 * the `CallbackSourceRejected` metric — before anything of it is parsed or verified. Built-in channels (sandbox,
 * balance) have no profile and so no list; a profile without one allows every source. The profile is the one the
 * channel adapter reads to verify the callback anyway (GetItem), so a list change applies to the next callback.
 */
export async function assertCallbackSource(
  deps: { channelProfiles: ChannelProfiles; alarms: AlarmMetrics },
  channel: Channel,
  sourceIp: string | undefined,
): Promise<void> {
  if (channel !== 'ALIPAY' && channel !== 'WECHAT_PAY') return;
  const profile = await deps.channelProfiles.get(channel);
  if (sourceAllowed(sourceIp, profile?.callbackAllowlist)) return;
  deps.alarms.count('CallbackSourceRejected');
  logger.warn('callback from outside the allowlist refused', { channel, source_ip: sourceIp ?? null });
  throw new ForbiddenError('CALLBACK_SOURCE_FORBIDDEN', `callbacks for ${channel} are not accepted from this address`);
}
