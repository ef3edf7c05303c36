import type { AlipayConfig, ChannelProfile, WechatPayConfig } from './channel-config.ts';
import { retiredKeysOf } from './channel-key-rotation.ts';

/** A configurable (external) channel. */
export type ConfigurableChannel = ChannelProfile['channel'];

/** The channels that have a profile and secrets. */
export const CONFIGURABLE_CHANNELS: readonly ConfigurableChannel[] = ['ALIPAY', 'WECHAT_PAY'];

/**
 * Which fields of each channel's configuration are plain settings (stored on the profile, in the table) and which
 * come from the secret store. Public keys and platform certificates travel with the secret: they are multi-line PEMs
 * that belong with the key pair, and keeping them out of the table costs nothing.
 */
export const CHANNEL_FIELDS = {
  ALIPAY: {
    settings: ['appId', 'gatewayUrl', 'notifyUrl'],
    secrets: ['appPrivateKeyPem', 'alipayPublicKeyPem'],
  },
  WECHAT_PAY: {
    settings: ['mchId', 'appId', 'baseUrl', 'notifyUrl', 'merchantSerialNo'],
    secrets: ['merchantPrivateKeyPem', 'apiV3Key', 'platformKeys'],
  },
} as const satisfies Record<ConfigurableChannel, { settings: readonly string[]; secrets: readonly string[] }>;

/** The secret material of a channel, as stored in the secret store (a JSON object). */
export type ChannelSecret = Record<string, unknown>;

const SECRET_NAME = /private|secret|password|passphrase|token|apiv3|api_v3|key$|pem$/i;
const SECRET_VALUE = /-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----/;

/**
 * The names of settings that look like secret material (a secret field's name, a name like `*PrivateKey*`, or a PEM
 * value). A profile with any of them must not be written to the table.
 */
export function secretLookingSettings(settings: Record<string, string>): string[] {
  const secretFields = new Set<string>(CONFIGURABLE_CHANNELS.flatMap((channel) => CHANNEL_FIELDS[channel].secrets));
  return Object.entries(settings)
    .filter(([name, value]) => secretFields.has(name) || SECRET_NAME.test(name) || SECRET_VALUE.test(value))
    .map(([name]) => name);
}

/** The settings or secret fields a channel's configuration still lacks. */
export function missingFields(
  channel: ConfigurableChannel,
  settings: Record<string, string>,
  secret: ChannelSecret,
): string[] {
  const fields = CHANNEL_FIELDS[channel];
  return [
    ...fields.settings.filter((name) => !settings[name]),
    ...fields.secrets.filter((name) => secret[name] === undefined || secret[name] === ''),
  ];
}

/** Builds the Alipay adapter's configuration from a profile and its secret; throws naming any missing field. */
export function alipayConfig(profile: ChannelProfile, secret: ChannelSecret): AlipayConfig {
  assertComplete('ALIPAY', profile, secret);
  const retired = retiredKeysOf(secret);
  return {
    appId: text(profile.settings.appId),
    gatewayUrl: text(profile.settings.gatewayUrl),
    notifyUrl: text(profile.settings.notifyUrl),
    appPrivateKeyPem: text(secret.appPrivateKeyPem),
    alipayPublicKeyPem: text(secret.alipayPublicKeyPem),
    ...(retired?.alipayPublicKeyPem
      ? { retiredAlipayPublicKey: { pem: text(retired.alipayPublicKeyPem), validUntil: retired.validUntil } }
      : {}),
  };
}

/** Builds the WeChat Pay adapter's configuration from a profile and its secret; throws naming any missing field. */
export function wechatPayConfig(profile: ChannelProfile, secret: ChannelSecret): WechatPayConfig {
  assertComplete('WECHAT_PAY', profile, secret);
  const platformKeys = secret.platformKeys;
  if (typeof platformKeys !== 'object' || platformKeys === null || Array.isArray(platformKeys)) {
    throw new Error('WECHAT_PAY secret: platformKeys must be an object of serial → PEM');
  }
  const retired = retiredKeysOf(secret);
  return {
    mchId: text(profile.settings.mchId),
    appId: text(profile.settings.appId),
    baseUrl: text(profile.settings.baseUrl),
    notifyUrl: text(profile.settings.notifyUrl),
    merchantSerialNo: text(profile.settings.merchantSerialNo),
    merchantPrivateKeyPem: text(secret.merchantPrivateKeyPem),
    apiV3Key: text(secret.apiV3Key),
    platformKeys: Object.fromEntries(Object.entries(platformKeys).map(([serial, pem]) => [serial, text(pem)])),
    ...(retired?.platformKeys
      ? { retiredPlatformKeys: { keys: retired.platformKeys, validUntil: retired.validUntil } }
      : {}),
  };
}

function assertComplete(channel: ConfigurableChannel, profile: ChannelProfile, secret: ChannelSecret): void {
  if (profile.channel !== channel) throw new Error(`profile of ${profile.channel} given for ${channel}`);
  const missing = missingFields(channel, profile.settings, secret);
  if (missing.length > 0) throw new Error(`${channel} configuration lacks: ${missing.join(', ')}`);
}

function text(value: unknown): string {
  if (typeof value !== 'string') throw new Error('a channel configuration field must be a string');
  return value;
}
