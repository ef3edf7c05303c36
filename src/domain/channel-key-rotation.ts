import type { ChannelProfile } from './channel-config.ts';

/** A channel's secret JSON object (see `ChannelSecret` in channel-fields.ts). */
type ChannelSecret = Record<string, unknown>;

/** Default grace of a rotated channel public key: a day, as for merchant secrets. */
export const DEFAULT_KEY_GRACE_SECONDS = 86_400;

/**
 * Channel public keys replaced by a rotation (`retiredKeys` in the secret), still accepted for verification until
 * `validUntil`: the channel may keep signing with its old key for a while after the operator switched.
 */
export interface RetiredChannelKeys {
  /** ISO time after which the retired keys verify nothing. */
  validUntil: string;
  /** Alipay's previous public key (PEM). */
  alipayPublicKeyPem?: string;
  /** WeChat Pay's previous platform certificates / public keys, serial → PEM. */
  platformKeys?: Record<string, string>;
}

/**
 * The secret to store when `next` replaces `previous`: the channel public keys that `next` drops or changes are kept
 * as `retiredKeys`, valid for `graceSeconds` from `now`. Unchanged keys retire nothing, and a retirement still in its
 * grace period is carried over, so re-running `set` with the same file never cuts a grace period short.
 */
export function rotateChannelSecret(
  channel: ChannelProfile['channel'],
  previous: ChannelSecret | undefined,
  next: ChannelSecret,
  now: Date,
  graceSeconds: number,
): ChannelSecret {
  const { retiredKeys: _ignored, ...fresh } = next;
  const carried = stillValid(retiredKeysOf(previous), now);
  const validUntil = new Date(now.getTime() + graceSeconds * 1000).toISOString();
  const retired = channel === 'ALIPAY' ? retiredAlipayKey(previous, fresh) : retiredPlatformKeys(previous, fresh);
  if (!retired) return carried ? { ...fresh, retiredKeys: carried } : fresh;
  return { ...fresh, retiredKeys: { validUntil, ...retired } };
}

/** The retired keys of a stored secret, if it has a well-formed `retiredKeys`. */
export function retiredKeysOf(secret: ChannelSecret | undefined): RetiredChannelKeys | undefined {
  const value = secret?.retiredKeys;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const retired = value as Record<string, unknown>;
  if (typeof retired.validUntil !== 'string' || Number.isNaN(Date.parse(retired.validUntil))) return undefined;
  return retired as unknown as RetiredChannelKeys;
}

/** Whether a retired key may still verify at `now`. */
export function isRetiredKeyValid(retired: Pick<RetiredChannelKeys, 'validUntil'>, now: Date): boolean {
  return now.getTime() < Date.parse(retired.validUntil);
}

function stillValid(retired: RetiredChannelKeys | undefined, now: Date): RetiredChannelKeys | undefined {
  return retired && isRetiredKeyValid(retired, now) ? retired : undefined;
}

function retiredAlipayKey(previous: ChannelSecret | undefined, next: ChannelSecret) {
  const old = previous?.alipayPublicKeyPem;
  if (typeof old !== 'string' || old === '' || old === next.alipayPublicKeyPem) return undefined;
  return { alipayPublicKeyPem: old };
}

function retiredPlatformKeys(previous: ChannelSecret | undefined, next: ChannelSecret) {
  const old = pemMap(previous?.platformKeys);
  const current = pemMap(next.platformKeys);
  const dropped = Object.entries(old).filter(([serial, pem]) => current[serial] !== pem);
  return dropped.length > 0 ? { platformKeys: Object.fromEntries(dropped) } : undefined;
}

function pemMap(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}
