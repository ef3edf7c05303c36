import type { Channel, PayMethod } from '#domain/payment.ts';

/**
 * How the gateway uses one channel account: routing attributes (stored in the table, not secret) plus a reference to
 * its secret material (Secrets Manager on AWS, `.local/channels/` on one machine — never in the table in clear).
 */
export interface ChannelProfile {
  channel: Extract<Channel, 'ALIPAY' | 'WECHAT_PAY'>;
  enabled: boolean;
  methods: PayMethod[];
  currencies: string[];
  /** Per-payment limits in minor units of each currency; absent = the merchant limits alone apply. */
  singleLimitMinor?: number;
  /** Sum of successful payments per UTC day in minor units; absent = no daily cap. */
  dailyLimitMinor?: number;
  /** Relative share of traffic among healthy candidates. */
  weight: number;
  /** Where this channel's secret material lives: a Secrets Manager ARN/name, or a `.local/channels/` file name. */
  secretRef: string;
  /** Non-secret settings of the account (app id, merchant number, gateway URL, notify URL, serials…). */
  settings: Record<string, string>;
  /**
   * The address ranges (CIDR) this channel's callbacks come from; a callback from elsewhere is refused (`403`) before
   * it is parsed. Absent or empty: any source (see `callback-allowlist.ts`).
   */
  callbackAllowlist?: string[];
  updatedAt: string;
}

/** Alipay open platform account (RSA2). Secret fields come from the secret store. */
export interface AlipayConfig {
  appId: string;
  /** e.g. https://openapi.alipay.com/gateway.do (a local Alipay-protocol server in tests). */
  gatewayUrl: string;
  notifyUrl: string;
  /** PKCS#8 or PKCS#1 PEM of the app's private key (secret). */
  appPrivateKeyPem: string;
  /** PEM of Alipay's public key, to verify responses and async notifications. */
  alipayPublicKeyPem: string;
  /** Alipay's previous public key after a rotation, still accepted until `validUntil` (ISO). */
  retiredAlipayPublicKey?: { pem: string; validUntil: string };
}

/** WeChat Pay API v3 merchant account. Secret fields come from the secret store. */
export interface WechatPayConfig {
  mchId: string;
  appId: string;
  /** e.g. https://api.mch.weixin.qq.com (a local WeChat-Pay-protocol server in tests). */
  baseUrl: string;
  notifyUrl: string;
  /** Serial number of the merchant API certificate, sent in the Authorization header. */
  merchantSerialNo: string;
  /** PEM of the merchant API private key (secret). */
  merchantPrivateKeyPem: string;
  /** The 32-byte API v3 key for AEAD_AES_256_GCM resource decryption (secret). */
  apiV3Key: string;
  /**
   * Verification keys by `Wechatpay-Serial`: platform certificates (PEM certificates) and/or the WeChat Pay public key
   * (`PUB_KEY_ID_…` → PEM public key). Both kinds are configurable, as WeChat Pay is migrating between them.
   */
  platformKeys: Record<string, string>;
  /** Platform keys dropped by a rotation (serial → PEM), still accepted until `validUntil` (ISO). */
  retiredPlatformKeys?: { keys: Record<string, string>; validUntil: string };
}
