// Long because it builds real signed Alipay, WeChat Pay and sandbox notifications (FIXTURES) and routes on a table in
// its own DynamoDB Local, besides measuring and printing section 7.
/**
 * Section 7: callback verification throughput of the adapters' real `verifyAndParseCallback` over distinct signed
 * payment-success notifications (RSA 2048 keys generated for the run), and routing decision latency with the breaker
 * state read from DynamoDB Local, without and with the in-container cache. Every figure is measured on this run.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AlipayChannel } from '#adapters/channels/alipay/alipay-channel.ts';
import { signNotification } from '#adapters/channels/alipay/signing.ts';
import { toShanghaiTime } from '#adapters/channels/alipay/transformers.ts';
import { SandboxChannel } from '#adapters/channels/sandbox.ts';
import type { SandboxStore } from '#adapters/channels/sandbox-store.ts';
import { toWechatTime } from '#adapters/channels/wechat-pay/transformers.ts';
import { WechatPayChannel } from '#adapters/channels/wechat-pay/wechat-pay-channel.ts';
import { DynamoChannelHealthRepository } from '#adapters/dynamo/channel-health-repository.ts';
import { DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import { DynamoDailyVolumeRepository } from '#adapters/dynamo/daily-volume-repository.ts';
import type { ChannelCallback, PaymentChannel } from '#app/ports.ts';
import { type ChannelRouter, routeChannel } from '#app/routing.ts';
import { formatAmount } from '#domain/money.ts';
import type { Channel } from '#domain/payment.ts';
import { signSandboxCallback } from '#domain/signing.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { createGatewayTable } from '../local/tables.ts';
import { LOCAL_BUYER } from '../test/support/channels/alipay-trades.ts';
import { transactionNotification } from '../test/support/channels/wechat-pay-notifications.ts';
import { perSecond, summarize } from './flows.ts';
import { heading, indent, keyValues, num, table, wrap } from './report.ts';

const VERIFICATIONS = 2000;
const ROUTING_DECISIONS = 1000;
const RSA_KEY_BITS = 2048;
/** Notifications are built and signed in batches between timed stretches: memory stays bounded, timestamps fresh. */
const BATCH = 500;

/** A request as the HTTP layer hands it to an adapter, and the payment it must be mapped to. */
type Signed = {
  request: { headers: Record<string, string | undefined>; body: string };
  paymentId: string;
  minor: number;
};
type Fixture = { verify(request: Signed['request']): Promise<ChannelCallback>; make(): Signed; work: string };

function rsaKeyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: RSA_KEY_BITS });
  const pem = (key: KeyObject, type: 'spki' | 'pkcs8') => key.export({ type, format: 'pem' }).toString();
  return { publicPem: pem(publicKey, 'spki'), privatePem: pem(privateKey, 'pkcs8'), privateKey };
}
// The routing stub's channel methods: routing calls none of them.
const PORT_METHODS = 'createPayment queryPayment closePayment refund queryRefund verifyAndParseCallback'.split(' ');
const digits = (count: number) => Array.from({ length: count }, () => randomInt(10)).join('');
/** A gateway payment id and a varied amount (CNY 1.00 – 5,000.00). */
const payment = () => ({ paymentId: `pay_${randomBytes(16).toString('hex')}`, minor: randomInt(1, 5001) * 100 });

/** The fields every Alipay payment-success notification of the bench has in common. */
const ALIPAY_FIXED = { notify_type: 'trade_status_sync', charset: 'utf-8', version: '1.0', sign_type: 'RSA2' } as const;
const ALIPAY_PAID = { trade_status: 'TRADE_SUCCESS', subject: 'Wallet top-up' } as const;
/** The adapters under test, each with a maker of fresh signed notifications built as the local channel servers build them. */
const FIXTURES: Record<'ALIPAY' | 'WECHAT_PAY' | 'SANDBOX', () => Fixture> = {
  ALIPAY: () => {
    const [app, alipay] = [rsaKeyPair(), rsaKeyPair()];
    const appId = '2021000000000001';
    const channel = new AlipayChannel({
      appId,
      gatewayUrl: 'http://127.0.0.1:9/gateway.do',
      notifyUrl: 'https://gateway.example/v1/callbacks/alipay',
      appPrivateKeyPem: app.privatePem,
      alipayPublicKeyPem: alipay.publicPem,
    });
    const make = (): Signed => {
      const p = payment();
      const total = formatAmount(p.minor, 'CNY');
      const paidAt = new Date();
      const form: Record<string, string> = {
        ...ALIPAY_FIXED,
        ...ALIPAY_PAID,
        app_id: appId,
        notify_time: toShanghaiTime(paidAt),
        notify_id: randomUUID().replaceAll('-', ''),
        trade_no: `2026${digits(24)}`,
        out_trade_no: p.paymentId,
        buyer_id: LOCAL_BUYER.buyerId,
        total_amount: total,
        receipt_amount: total,
        gmt_create: toShanghaiTime(new Date(paidAt.getTime() - 20_000)),
        gmt_payment: toShanghaiTime(paidAt),
        fund_bill_list: JSON.stringify([{ amount: total, fundChannel: 'ALIPAYACCOUNT' }]),
      };
      const body = new URLSearchParams({ ...form, sign: signNotification(form, alipay.privateKey) }).toString();
      return { request: { headers: {}, body }, ...p };
    };
    return {
      verify: (request) => channel.verifyAndParseCallback(request),
      make,
      work: 'RSA2 (SHA256withRSA) over the sorted form',
    };
  },
  WECHAT_PAY: () => {
    const [merchant, platform] = [rsaKeyPair(), rsaKeyPair()];
    const serial = 'PUB_KEY_ID_0119000000000000000000000001';
    const config = {
      mchId: '1900000109',
      appId: 'wxd678efh567hg6787',
      baseUrl: 'http://127.0.0.1:9',
      notifyUrl: 'https://gateway.example/v1/callbacks/wechat-pay',
      merchantSerialNo: '3775B6A45ACD588826D15E583A95F5DD00000000',
      merchantPrivateKeyPem: merchant.privatePem,
      apiV3Key: randomBytes(16).toString('hex'),
      platformKeys: { [serial]: platform.publicPem },
    };
    const channel = new WechatPayChannel(config);
    const signer = { serial, key: platform.privateKey, apiV3Key: config.apiV3Key };
    const make = (): Signed => {
      const p = payment();
      const request = transactionNotification(signer, {
        appid: config.appId,
        mchid: config.mchId,
        out_trade_no: p.paymentId.slice('pay_'.length),
        trade_type: 'NATIVE',
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
        description: 'Wallet top-up',
        notify_url: config.notifyUrl,
        amount: { total: p.minor, currency: 'CNY' },
        payer: { openid: `oUpF8uMuAJO_M2pxb1Q9zNjWeS6o${digits(4)}` },
        transaction_id: `42000${digits(23)}`,
        success_time: toWechatTime(new Date().toISOString()),
      });
      return { request, ...p };
    };
    return {
      verify: (request) => channel.verifyAndParseCallback(request),
      make,
      work: 'SHA256withRSA + AES-256-GCM decrypt',
    };
  },
  SANDBOX: () => {
    const secret = randomBytes(32).toString('hex');
    // Verification never touches the store: an empty one, whose any use throws, proves no I/O is timed.
    const channel = new SandboxChannel('http://127.0.0.1:9', async () => secret, {} as SandboxStore);
    const make = (): Signed => {
      const p = payment();
      const body = JSON.stringify({
        payment_id: p.paymentId,
        channel_trade_no: `sbx_${p.paymentId.slice(4, 20)}`,
        status: 'SUCCESS',
        amount: formatAmount(p.minor, 'CNY'),
        currency: 'CNY',
        paid_at: new Date().toISOString(),
      });
      const headers = { 'content-type': 'application/json', 'x-sandbox-signature': signSandboxCallback(secret, body) };
      return { request: { headers, body }, ...p };
    };
    return { verify: (request) => channel.verifyAndParseCallback(request), make, work: 'HMAC-SHA256 of the raw body' };
  },
};

/**
 * Verifies `count` distinct notifications (after `warmup` others) one after another, each checked to map to the
 * successful payment it was built for; building, signing and checking are not timed.
 */
async function measureVerification(channel: keyof typeof FIXTURES, count: number, warmup: number) {
  const fixture = FIXTURES[channel]();
  const check = (signed: Signed, parsed: ChannelCallback | undefined) => {
    const r = parsed?.kind === 'payment' ? parsed.result : undefined;
    if (r?.status !== 'SUCCEEDED' || r.paymentId !== signed.paymentId || r.amountMinor !== signed.minor)
      throw new Error(`${channel}: a notification for ${signed.paymentId} was not parsed as its successful payment`);
  };
  const latencies: number[] = [];
  let elapsedMs = 0;
  let bytes = 0;
  const run = async (total: number, measured: boolean) => {
    for (let done = 0; done < total; done += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, total - done) }, () => fixture.make());
      const results: ChannelCallback[] = [];
      const started = performance.now();
      for (const signed of batch) {
        const before = performance.now();
        results.push(await fixture.verify(signed.request));
        if (measured) latencies.push(performance.now() - before);
      }
      if (measured) elapsedMs += performance.now() - started;
      for (const [i, signed] of batch.entries()) check(signed, results[i]);
      if (measured) bytes += batch.reduce((sum, signed) => sum + Buffer.byteLength(signed.request.body), 0);
    }
  };
  await run(warmup, false);
  await run(count, true);
  const { p50, p95 } = summarize(latencies);
  return {
    channel,
    verifications: count,
    warmup,
    meanBodyBytes: bytes / count,
    elapsedMs,
    verificationsPerSecond: perSecond(count, elapsedMs),
    meanMicros: (elapsedMs * 1000) / count,
    p50Micros: p50 * 1000,
    p95Micros: p95 * 1000,
    work: fixture.work,
  };
}

/**
 * `routeChannel` decisions (ALIPAY vs WECHAT_PAY, no daily limit, so no writes) on a fresh table in a DynamoDB Local
 * started for it, the breaker state read on every decision or from the cache (TTL 1 s); profiles cached in both.
 */
async function measureRouting(iterations: number) {
  const local = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: local.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tableName = `bench-routing-${randomBytes(4).toString('hex')}`;
  try {
    await createGatewayTable(client, tableName);
    const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    const profiles = new DynamoChannelProfileRepository(db, tableName, { cacheTtlMs: 3_600_000 });
    const seed = new DynamoChannelHealthRepository(db, tableName, { cacheTtlMs: 0 });
    const channels = new Map<Channel, PaymentChannel>();
    const unused = () => Promise.reject(new Error('not called by the routing bench'));
    for (const channel of ['ALIPAY', 'WECHAT_PAY'] as const) {
      const weight = { ALIPAY: 5, WECHAT_PAY: 3 }[channel];
      const [methods, currencies, updatedAt] = [['QR' as const], ['CNY'], new Date().toISOString()];
      const profile = { channel, enabled: true, weight, methods, currencies, secretRef: channel.toLowerCase() };
      await profiles.put({ ...profile, settings: {}, updatedAt }, null);
      for (let i = 0; i < 5; i++) await seed.recordSuccess(channel, 120 + 10 * i, new Date());
      // Routing only asks a channel what it supports; the other methods reject.
      const supports = (method: string, currency: string) => method === 'QR' && currency === 'CNY';
      channels.set(channel, {
        ...Object.fromEntries(PORT_METHODS.map((m) => [m, unused])),
        code: channel,
        supports,
      } as PaymentChannel);
    }
    const latency = async (cacheTtlMs: number) => {
      const router: ChannelRouter = {
        channels,
        profiles,
        health: new DynamoChannelHealthRepository(db, tableName, { cacheTtlMs }),
        volume: new DynamoDailyVolumeRepository(db, tableName),
        clock: () => new Date(),
      };
      const request = { method: 'QR' as const, currency: 'CNY', amountMinor: 10_000 };
      for (let i = 0; i < Math.min(50, iterations); i++)
        await routeChannel(router, { ...request, paymentId: payment().paymentId });
      const latencies: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const started = performance.now();
        await routeChannel(router, { ...request, paymentId: payment().paymentId });
        latencies.push(performance.now() - started);
      }
      const { p50, p95, mean } = summarize(latencies);
      return { p50, p95, mean };
    };
    const withoutCache = await latency(0);
    const withCache = await latency(1000);
    return { iterations, withoutCache, withCache, cacheSpeedup: withoutCache.mean / withCache.mean };
  } finally {
    await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    client.destroy();
    await local.stop();
  }
}

/** Measures and prints section 7; returns BENCH_RESULT `channels`. */
export async function measureChannels() {
  const started = performance.now();
  const warmup = Math.ceil(VERIFICATIONS / 10);
  const channels = [];
  for (const channel of ['ALIPAY', 'WECHAT_PAY', 'SANDBOX'] as const)
    channels.push(await measureVerification(channel, VERIFICATIONS, warmup));
  const routing = await measureRouting(ROUTING_DECISIONS);
  const elapsedMs = performance.now() - started;
  const msText = (value: number) => `${num(value, 3)} ms`;
  console.log(heading('7. Callback verification throughput and routing decision latency'));
  const paragraph = (text: string) => console.log(`${indent(wrap(text, 116))}\n`);
  paragraph(
    `verification = the adapter's own verifyAndParseCallback (signature check, then decrypt where the channel ` +
      'encrypts, parse and map) on a distinct signed payment-success notification, built as the local Alipay / ' +
      `WeChat Pay servers and the sandbox build them; awaited one after another on one core: ${num(VERIFICATIONS)} ` +
      `per channel after ${num(warmup)} warm-up, RSA ${RSA_KEY_BITS}-bit keys generated for the run, each result ` +
      'checked against its payment. mean = wall time / verifications (pauses included); p50 / p95 = single verifications',
  );
  const verificationColumns = 'channel|signature check|>body B|>verifications/s|>mean µs|>p50 µs|>p95 µs'.split('|');
  const verificationRows = channels.map((c) => [
    ...[c.channel, c.work, num(c.meanBodyBytes), num(c.verificationsPerSecond)],
    ...[c.meanMicros, c.p50Micros, c.p95Micros].map((v) => num(v, 1)),
  ]);
  console.log(`${table(verificationColumns, verificationRows)}\n`);
  paragraph(
    'routing decision = routeChannel (ALIPAY vs WECHAT_PAY, profiles cached) with the circuit-breaker state read ' +
      `from DynamoDB Local: ${num(routing.iterations)} sequential decisions per mode after a warm-up`,
  );
  const row = (label: string, l: { p50: number; p95: number; mean: number }) => [
    ...[label, msText(l.p50), msText(l.p95), msText(l.mean)],
    l.mean > 0 ? num(1000 / l.mean) : 'n/a',
  ];
  const routingColumns = ['breaker state', '>p50', '>p95', '>mean', '>decisions/s'];
  const routingRows = [
    row('read from DynamoDB Local on every decision (BatchGetItem)', routing.withoutCache),
    row('in-container cache (TTL 1 s), refreshed from the table', routing.withCache),
  ];
  console.log(`${table(routingColumns, routingRows)}\n`);
  console.log(
    keyValues([
      [
        'cache effect',
        `mean ${msText(routing.withoutCache.mean)} → ${msText(routing.withCache.mean)} ` +
          `(×${num(routing.cacheSpeedup, 1)}; the price: breaker state up to one TTL old)`,
      ],
      ['section wall time', `${num(elapsedMs / 1000, 1)} s (key generation, signing, DynamoDB Local included)`],
    ]),
  );
  const figures = channels.map(({ work: _work, ...figures }) => figures);
  return {
    verification: { iterations: VERIFICATIONS, warmup, rsaKeyBits: RSA_KEY_BITS, channels: figures },
    routing,
    elapsedMs,
  };
}
