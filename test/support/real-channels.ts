import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LocalChannelSecrets } from '#adapters/channel-secrets.ts';
import { DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import { type LocalAlipayServer, startAlipayServer } from './channels/alipay-server.ts';
import { type LocalWechatPay, pem, startLocalWechatPay } from './wechat-pay.ts';

/** A fresh RSA 2048 key pair as PEM (PKCS#8 private, SPKI public). */
export function rsaKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKeyPem: pem(privateKey, 'pkcs8'), publicKeyPem: pem(publicKey, 'spki') };
}

/**
 * A forwarder in front of a local channel server that records every request reaching it (the Alipay `method`, else
 * the path) — including those the server then fails — and can hold requests until released.
 */
export interface RecordingProxy {
  /** The proxy's origin; paths and queries are forwarded unchanged to the target's origin. */
  url: string;
  requests: string[];
  /** Holds every request (after recording it) until the returned function is called. */
  hold(): () => void;
  stop(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const origin = new URL(target).origin;
  const requests: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  const server = createServer((req, res) => {
    const forward = async () => {
      const body = await readBody(req);
      const path = req.url ?? '/';
      requests.push(new URL(path, origin).searchParams.get('method') ?? path);
      await gate;
      const answer = await fetch(`${origin}${path}`, {
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' },
        ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
      });
      const payload = Buffer.from(await answer.arrayBuffer());
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
      res.end(payload);
    };
    forward().catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    hold() {
      let release = () => {};
      gate = new Promise<void>((done) => {
        release = done;
      });
      return () => {
        release();
        gate = Promise.resolve();
      };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** The local Alipay server, the recording proxy the gateway reaches it through, and the account's keys. */
export interface LocalAlipay {
  server: LocalAlipayServer;
  proxy: RecordingProxy;
  appId: string;
  /** What the gateway is configured with: its app private key and Alipay's public key. */
  secret: { appPrivateKeyPem: string; alipayPublicKeyPem: string };
  /** `gateway.do` behind the proxy. */
  gatewayUrl: string;
}

/** Both local channel servers with fresh keys. */
export interface LocalChannels {
  alipay: LocalAlipay;
  wechat: LocalWechatPay;
  stop(): Promise<void>;
}

export async function startLocalChannels(): Promise<LocalChannels> {
  const appId = '2021000000000077';
  const app = rsaKeyPair();
  const alipayKeys = rsaKeyPair();
  const server = await startAlipayServer({
    appId,
    appPublicKeyPem: app.publicKeyPem,
    alipayPrivateKeyPem: alipayKeys.privateKeyPem,
  });
  const proxy = await startRecordingProxy(server.url);
  const wechat = await startLocalWechatPay();
  return {
    alipay: {
      server,
      proxy,
      appId,
      secret: { appPrivateKeyPem: app.privateKeyPem, alipayPublicKeyPem: alipayKeys.publicKeyPem },
      gatewayUrl: `${proxy.url}${new URL(server.url).pathname}`,
    },
    wechat,
    async stop() {
      await Promise.all([proxy.stop(), server.stop(), wechat.server.stop()]);
    },
  };
}

/** The callback URLs the gateway serves for the external channels. */
export function callbackUrls(apiBase: string) {
  return { alipay: `${apiBase}/v1/callbacks/alipay`, wechat: `${apiBase}/v1/callbacks/wechat-pay` };
}

/**
 * Configures ALIPAY and WECHAT_PAY as the channel CLI does: secret material into the local secret store, a profile
 * (non-secret settings pointing at the local servers and the gateway's callbacks) into the table.
 */
export async function configureRealChannels(options: {
  db: DynamoDBDocumentClient;
  tableName: string;
  secretsDir: string;
  apiBase: string;
  channels: LocalChannels;
  weights: { ALIPAY: number; WECHAT_PAY: number };
  /** A daily limit on both profiles (minor units); absent: none. */
  dailyLimitMinor?: number;
}): Promise<ChannelProfile[]> {
  const { alipay, wechat } = options.channels;
  const secrets = new LocalChannelSecrets(options.secretsDir);
  const profiles = new DynamoChannelProfileRepository(options.db, options.tableName);
  const notify = callbackUrls(options.apiBase);
  const updatedAt = new Date().toISOString();
  const common = {
    enabled: true,
    methods: ['QR' as const],
    currencies: ['CNY'],
    updatedAt,
    ...(options.dailyLimitMinor === undefined ? {} : { dailyLimitMinor: options.dailyLimitMinor }),
  };
  const configured: ChannelProfile[] = [
    {
      ...common,
      channel: 'ALIPAY',
      weight: options.weights.ALIPAY,
      secretRef: await secrets.put('alipay-e2e', alipay.secret),
      settings: { appId: alipay.appId, gatewayUrl: alipay.gatewayUrl, notifyUrl: notify.alipay },
    },
    {
      ...common,
      channel: 'WECHAT_PAY',
      weight: options.weights.WECHAT_PAY,
      secretRef: await secrets.put('wechat-pay-e2e', {
        merchantPrivateKeyPem: wechat.config.merchantPrivateKeyPem,
        apiV3Key: wechat.config.apiV3Key,
        platformKeys: wechat.config.platformKeys,
      }),
      settings: {
        mchId: wechat.config.mchId,
        appId: wechat.config.appId,
        baseUrl: wechat.config.baseUrl,
        notifyUrl: notify.wechat,
        merchantSerialNo: wechat.config.merchantSerialNo,
      },
    },
  ];
  for (const profile of configured) await profiles.put(profile, null);
  return configured;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
