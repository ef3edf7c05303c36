import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { WechatPayChannel } from '#adapters/channels/wechat-pay/wechat-pay-channel.ts';
import type { WechatPayConfig } from '#domain/channel-config.ts';
import type { Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { startWechatPayServer, type WechatPayServer } from './channels/wechat-pay-server.ts';
import { paymentFixture, refundFixture } from './domain-fixtures.ts';

/** PEM of a key: `spki` for public keys, `pkcs8` for private keys. */
export function pem(key: KeyObject, type: 'spki' | 'pkcs8'): string {
  return key.export({ type, format: 'pem' }).toString();
}

/** The WeChat Pay public key id the local server signs under (public-key mode). */
export const PUB_KEY_ID = 'PUB_KEY_ID_0119000000000000000000000001';

/** A local WeChat Pay server, the matching channel configuration, a channel on it, and the keys behind both. */
export interface LocalWechatPay {
  server: WechatPayServer;
  config: WechatPayConfig;
  channel: WechatPayChannel;
  merchant: { publicKey: KeyObject; privateKey: KeyObject };
  platform: { publicKey: KeyObject; privateKey: KeyObject };
}

/**
 * Starts a local WeChat Pay server with fresh RSA 2048 keys and a channel configured for it. Its deadline is generous
 * (a busy machine must not turn a normal call into a timeout); a test ABOUT timeouts builds its own impatient channel.
 */
export async function startLocalWechatPay(): Promise<LocalWechatPay> {
  const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apiV3Key = randomBytes(16).toString('hex');
  const account = { mchId: '1900000109', appId: 'wxd678efh567hg6787' };
  const server = await startWechatPayServer({
    ...account,
    merchantPublicKeyPem: pem(merchant.publicKey, 'spki'),
    platform: { serial: PUB_KEY_ID, privateKeyPem: pem(platform.privateKey, 'pkcs8') },
    apiV3Key,
  });
  const config: WechatPayConfig = {
    ...account,
    baseUrl: server.url,
    notifyUrl: 'https://gateway.example/v1/callbacks/wechat-pay',
    merchantSerialNo: '3775B6A45ACD588826D15E583A95F5DD00000000',
    merchantPrivateKeyPem: pem(merchant.privateKey, 'pkcs8'),
    apiV3Key,
    platformKeys: { [PUB_KEY_ID]: pem(platform.publicKey, 'spki') },
  };
  const channel = new WechatPayChannel(async () => config, { timeoutMs: 30_000 });
  return { server, config, channel, merchant, platform };
}

/** A pending CNY 100.00 QR payment on WECHAT_PAY with a fresh id. */
export function wechatPayment(overrides: Partial<Payment> = {}): Payment {
  return paymentFixture({ channel: 'WECHAT_PAY', ...overrides });
}

/** A processing refund of part of a payment, with a fresh id. */
export function wechatRefund(paid: Payment, amountMinor: number): Refund {
  return refundFixture(paid, amountMinor);
}

/** Creates a payment through the channel and lets the payer pay it at the local server. */
export async function paidWechatPayment(local: LocalWechatPay): Promise<Payment> {
  const created = wechatPayment();
  await local.channel.createPayment(created);
  local.server.pay(created.id.slice('pay_'.length));
  return created;
}
