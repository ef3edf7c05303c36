import { generateKeyPair, type KeyObject, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { AlipayChannel } from '#adapters/channels/alipay/alipay-channel.ts';
import { signNotification } from '#adapters/channels/alipay/signing.ts';
import { toShanghaiTime } from '#adapters/channels/alipay/transformers.ts';
import { SandboxChannel } from '#adapters/channels/sandbox.ts';
import type { SandboxStore } from '#adapters/channels/sandbox-store.ts';
import { toWechatTime } from '#adapters/channels/wechat-pay/transformers.ts';
import { WechatPayChannel } from '#adapters/channels/wechat-pay/wechat-pay-channel.ts';
import type { ChannelCallback } from '#app/ports.ts';
import type { AlipayConfig, WechatPayConfig } from '#domain/channel-config.ts';
import { formatAmount } from '#domain/money.ts';
import { signSandboxCallback } from '#domain/signing.ts';
import { LOCAL_BUYER } from '../local/channels/alipay-trades.ts';
import { type PlatformSigner, transactionNotification } from '../local/channels/wechat-pay-notifications.ts';
import type { LocalOrder } from '../local/channels/wechat-pay-orders.ts';
import { perSecond, round, summarize } from './stats.ts';

/** Modulus length of every RSA key the bench generates (Alipay's and WeChat Pay's production size). */
export const RSA_KEY_BITS = 2048;

/** The channels whose callback verification is measured, in report order. */
export const VERIFIED_CHANNELS = ['ALIPAY', 'WECHAT_PAY', 'SANDBOX'] as const;
/** One of {@link VERIFIED_CHANNELS}. */
export type VerifiedChannel = (typeof VERIFIED_CHANNELS)[number];

/** Throughput of one channel's `verifyAndParseCallback` over distinct signed success notifications. */
export interface VerificationFigures {
  channel: VerifiedChannel;
  /** Measured verifications (each a distinct notification), run one after another on one core. */
  verifications: number;
  /** Verifications of other notifications run first and not counted. */
  warmup: number;
  /** Mean size of a notification body, bytes (UTF-8). */
  meanBodyBytes: number;
  /** Wall time of the measured verifications, ms. */
  elapsedMs: number;
  verificationsPerSecond: number;
  /** Mean time of one verification, µs (elapsed / verifications). */
  meanMicros: number;
  /** Median of the individually timed verifications, µs. */
  p50Micros: number;
  /** 95th percentile of the individually timed verifications, µs. */
  p95Micros: number;
}

/** A notification as the HTTP layer hands it to the adapter, and the payment it must map to. */
interface SignedCallback {
  request: { headers: Record<string, string | undefined>; body: string };
  expected: { paymentId: string; amountMinor: number };
}

/** A channel adapter and a maker of fresh signed notifications for it. */
interface VerificationFixture {
  channel: VerifiedChannel;
  verify(request: SignedCallback['request']): Promise<ChannelCallback>;
  make(): SignedCallback;
}

/**
 * Notifications are built (and signed) in batches of at most this many, each batch just before it is timed: memory
 * stays bounded, and WeChat Pay's `Wechatpay-Timestamp` stays well inside the adapter's 300 s window at any count.
 */
const BATCH = 500;

const generateRsa = promisify(generateKeyPair);

async function rsaKeyPair(): Promise<{ publicPem: string; privatePem: string; privateKey: KeyObject }> {
  const { publicKey, privateKey } = await generateRsa('rsa', { modulusLength: RSA_KEY_BITS });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    privateKey,
  };
}

/** A gateway payment id (`pay_` + 32 hex, which WeChat Pay's `out_trade_no` is without the prefix). */
function paymentId(): string {
  return `pay_${randomBytes(16).toString('hex')}`;
}

/** Varied amounts, CNY 1.00 – 5,000.00. */
function amountMinor(): number {
  return randomInt(1, 5001) * 100;
}

function digits(count: number): string {
  return Array.from({ length: count }, () => randomInt(10)).join('');
}

/**
 * The Alipay adapter (a plain {@link AlipayConfig}, keys generated here) and `trade_status_sync` TRADE_SUCCESS
 * notifications built field by field as the local Alipay server's `notificationParams` builds them, signed with
 * Alipay's private key by the adapter's own `signNotification`, and form-encoded as Alipay POSTs them.
 */
async function alipayFixture(): Promise<VerificationFixture> {
  const [app, alipay] = await Promise.all([rsaKeyPair(), rsaKeyPair()]);
  const config: AlipayConfig = {
    appId: '2021000000000001',
    gatewayUrl: 'http://127.0.0.1:9/gateway.do',
    notifyUrl: 'https://gateway.example/v1/callbacks/alipay',
    appPrivateKeyPem: app.privatePem,
    alipayPublicKeyPem: alipay.publicPem,
  };
  const channel = new AlipayChannel(config);
  const make = (): SignedCallback => {
    const id = paymentId();
    const minor = amountMinor();
    const total = formatAmount(minor, 'CNY');
    const createdAt = new Date(Date.now() - 20_000);
    const paidAt = new Date();
    const form: Record<string, string> = {
      notify_time: toShanghaiTime(paidAt),
      notify_type: 'trade_status_sync',
      notify_id: randomUUID().replaceAll('-', ''),
      app_id: config.appId,
      charset: 'utf-8',
      version: '1.0',
      sign_type: 'RSA2',
      trade_no: `2026${digits(24)}`,
      out_trade_no: id,
      buyer_id: LOCAL_BUYER.buyerId,
      trade_status: 'TRADE_SUCCESS',
      total_amount: total,
      receipt_amount: total,
      subject: 'Wallet top-up',
      gmt_create: toShanghaiTime(createdAt),
      gmt_payment: toShanghaiTime(paidAt),
      fund_bill_list: JSON.stringify([{ amount: total, fundChannel: 'ALIPAYACCOUNT' }]),
    };
    const body = new URLSearchParams({ ...form, sign: signNotification(form, alipay.privateKey) }).toString();
    return { request: { headers: {}, body }, expected: { paymentId: id, amountMinor: minor } };
  };
  return {
    channel: 'ALIPAY',
    verify: (request) => channel.verifyAndParseCallback(request),
    make,
  };
}

/**
 * The WeChat Pay adapter (public-key mode, keys and API v3 key generated here) and TRANSACTION.SUCCESS callbacks
 * built by the local WeChat Pay server's `transactionNotification`: the transaction AES-256-GCM encrypted with the
 * API v3 key, the body signed with the platform key in `Wechatpay-*` headers.
 */
async function wechatPayFixture(): Promise<VerificationFixture> {
  const [merchant, platform] = await Promise.all([rsaKeyPair(), rsaKeyPair()]);
  const serial = 'PUB_KEY_ID_0119000000000000000000000001';
  const config: WechatPayConfig = {
    mchId: '1900000109',
    appId: 'wxd678efh567hg6787',
    baseUrl: 'http://127.0.0.1:9',
    notifyUrl: 'https://gateway.example/v1/callbacks/wechat-pay',
    merchantSerialNo: '3775B6A45ACD588826D15E583A95F5DD00000000',
    merchantPrivateKeyPem: merchant.privatePem,
    apiV3Key: randomBytes(16).toString('hex'),
    platformKeys: { [serial]: platform.publicPem },
  };
  const signer: PlatformSigner = { serial, key: platform.privateKey, apiV3Key: config.apiV3Key };
  const channel = new WechatPayChannel(config);
  const make = (): SignedCallback => {
    const id = paymentId();
    const minor = amountMinor();
    const order: LocalOrder = {
      appid: config.appId,
      mchid: config.mchId,
      out_trade_no: id.slice('pay_'.length),
      trade_type: 'NATIVE',
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      description: 'Wallet top-up',
      notify_url: config.notifyUrl,
      amount: { total: minor, currency: 'CNY' },
      payer: { openid: `oUpF8uMuAJO_M2pxb1Q9zNjWeS6o${digits(4)}` },
      transaction_id: `42000${digits(23)}`,
      success_time: toWechatTime(new Date().toISOString()),
    };
    return { request: transactionNotification(signer, order), expected: { paymentId: id, amountMinor: minor } };
  };
  return {
    channel: 'WECHAT_PAY',
    verify: (request) => channel.verifyAndParseCallback(request),
    make,
  };
}

/**
 * The sandbox adapter (its secret loader answers at once, as the cached secret does in a warm container) and payment
 * SUCCESS callbacks signed as the sandbox signs them: `X-Sandbox-Signature` = hex HMAC-SHA256 of the raw body.
 */
function sandboxFixture(): VerificationFixture {
  const secret = randomBytes(32).toString('hex');
  // Verification never touches the store; a store that throws proves no I/O is timed.
  const store = new Proxy(
    {},
    {
      get() {
        throw new Error('the callback verification bench must not use the sandbox store');
      },
    },
  ) as SandboxStore;
  const channel = new SandboxChannel('http://127.0.0.1:9', async () => secret, store);
  const make = (): SignedCallback => {
    const id = paymentId();
    const minor = amountMinor();
    const body = JSON.stringify({
      payment_id: id,
      channel_trade_no: `sbx_${id.slice(4, 20)}`,
      status: 'SUCCESS',
      amount: formatAmount(minor, 'CNY'),
      currency: 'CNY',
      paid_at: new Date().toISOString(),
    });
    const headers = { 'content-type': 'application/json', 'x-sandbox-signature': signSandboxCallback(secret, body) };
    return { request: { headers, body }, expected: { paymentId: id, amountMinor: minor } };
  };
  return {
    channel: 'SANDBOX',
    verify: (request) => channel.verifyAndParseCallback(request),
    make,
  };
}

/** Throws unless the adapter mapped the notification to the successful payment it was built for. */
function check(channel: VerifiedChannel, callback: SignedCallback, parsed: ChannelCallback): void {
  const { expected } = callback;
  if (
    parsed.kind !== 'payment' ||
    parsed.result.status !== 'SUCCEEDED' ||
    parsed.result.paymentId !== expected.paymentId ||
    parsed.result.amountMinor !== expected.amountMinor
  ) {
    throw new Error(`${channel}: a notification for ${expected.paymentId} was not parsed as its successful payment`);
  }
}

function batch(fixture: VerificationFixture, count: number): SignedCallback[] {
  return Array.from({ length: count }, () => fixture.make());
}

async function measure(fixture: VerificationFixture, count: number, warmup: number): Promise<VerificationFigures> {
  for (let done = 0; done < warmup; done += BATCH) {
    for (const callback of batch(fixture, Math.min(BATCH, warmup - done))) {
      check(fixture.channel, callback, await fixture.verify(callback.request));
    }
  }
  const latencies: number[] = [];
  let elapsedMs = 0;
  let bytes = 0;
  for (let done = 0; done < count; done += BATCH) {
    const callbacks = batch(fixture, Math.min(BATCH, count - done));
    const results: ChannelCallback[] = [];
    const started = performance.now();
    for (const callback of callbacks) {
      const before = performance.now();
      results.push(await fixture.verify(callback.request));
      latencies.push(performance.now() - before);
    }
    elapsedMs += performance.now() - started;
    callbacks.forEach((callback, index) => {
      const parsed = results[index];
      if (!parsed) throw new Error(`${fixture.channel}: notification ${done + index} has no result`);
      check(fixture.channel, callback, parsed);
      bytes += Buffer.byteLength(callback.request.body);
    });
  }
  const summary = summarize(latencies);
  return {
    channel: fixture.channel,
    verifications: count,
    warmup,
    meanBodyBytes: round(bytes / count, 1),
    elapsedMs: round(elapsedMs, 2),
    verificationsPerSecond: round(perSecond(count, elapsedMs), 1),
    meanMicros: round((elapsedMs * 1000) / count, 2),
    p50Micros: round(summary.p50 * 1000, 2),
    p95Micros: round(summary.p95 * 1000, 2),
  };
}

/**
 * Times each channel adapter's real `verifyAndParseCallback` over `count` distinct signed payment-success
 * notifications (after `warmup` others, not counted), one channel after another, each verification awaited before the
 * next, and checks that every one was mapped to the payment it was built for. Building and signing the notifications
 * (in batches, between the timed stretches) and the checks are not timed. `count` must be at least 1.
 */
export async function measureCallbackVerification(count: number, warmup: number): Promise<VerificationFigures[]> {
  const fixtures: Record<VerifiedChannel, () => Promise<VerificationFixture> | VerificationFixture> = {
    ALIPAY: alipayFixture,
    WECHAT_PAY: wechatPayFixture,
    SANDBOX: sandboxFixture,
  };
  const figures: VerificationFigures[] = [];
  for (const channel of VERIFIED_CHANNELS) figures.push(await measure(await fixtures[channel](), count, warmup));
  return figures;
}
