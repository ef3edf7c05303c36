import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { outTradeNoOf } from '#adapters/channels/wechat-pay/transformers.ts';
import { createContainer } from '#adapters/container.ts';
import { createMerchant } from '#app/merchant-admin.ts';
import type { Workflows } from '#app/ports.ts';
import { loadConfig } from '#shared/config.ts';
import { MerchantClient } from '../../../local/merchant-client.ts';
import { createQueues, type LocalSqs, type QueueUrls, startLocalSqs } from '../../../local/sqs.ts';
import { channelTable } from '../../support/channel-table.ts';
import { TEST_VISIBILITY_TIMEOUT_SECONDS } from '../../support/constants.ts';
import { uniqueId } from '../../support/fixtures.ts';
import {
  callbackUrls,
  configureRealChannels,
  type LocalChannels,
  startLocalChannels,
} from '../../support/real-channels.ts';
import type { Fault } from './faults.ts';
import { buildGatewayBundle, GATEWAY_PROJECT_ROOT } from './gateway-bundle.ts';
import { GatewayChild } from './gateway-child.ts';
import { type MerchantEndpoint, startMerchantEndpoint } from './merchant-endpoint.ts';

type Json = Record<string, unknown>;

/** How long the channel keeps retrying a notification, and a merchant a request, while the gateway is down. */
const RETRY_FOR_MS = 120_000;

/** What {@link startFaultStack} started. */
export interface FaultStack {
  /** The gateway process (killed and restarted by the tests). */
  gateway: GatewayChild;
  apiBase: string;
  /** The merchant's id, API client and webhook endpoint. */
  merchantId: string;
  client: MerchantClient;
  merchant: MerchantEndpoint;
  /** The local Alipay and WeChat Pay the payments go through (their books are the channels' side of the money). */
  channels: LocalChannels;
  /** The test's own view of the gateway's table (its own table, so it holds only this stack's data). */
  container: ReturnType<typeof createContainer>;
  tableName: string;
  /** `POST /v1/payments` of a QR recharge of `account_id` at `channel` (default Alipay; `AUTO`: routed). */
  createRecharge(fields: RechargeFields, channel?: ExternalChannel | 'AUTO'): Promise<Json>;
  /** The payer pays the trade at its channel (default Alipay). */
  pay(paymentId: string, channel?: ExternalChannel): void;
  /**
   * The channel's notification of the paid trade (default Alipay), re-sent as the channels do until the gateway
   * acknowledges it (Alipay: `success`; WeChat Pay: `204`).
   */
  notifyUntilAcknowledged(paymentId: string, channel?: ExternalChannel): Promise<number>;
  /** WeChat Pay's `REFUND.*` callback of a refund it finished, re-sent until the gateway acknowledges it (`204`). */
  notifyRefundUntilAcknowledged(refundId: string): Promise<number>;
  /** A merchant request re-sent until it gets an answer other than 5xx (the gateway may be down meanwhile). */
  requestUntilAnswered(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
  /** A recharge created, paid at its channel (default Alipay) and notified: the wallet credited. */
  paidRecharge(amount: string, channel?: ExternalChannel): Promise<{ id: string; accountId: string }>;
  /**
   * Arms `fault`, starts `action`, checks the gateway process died of exactly that fault, starts a fresh one, and
   * returns how `action` ended: interrupted (its connection lost) or answered (it retried past the restart).
   */
  crashDuring(fault: Fault, action: () => Promise<unknown>): Promise<'answered' | 'connection lost'>;
  /**
   * Stops the stack's own SQS server while `during` runs, then starts it again on the same port with the same
   * queues (local SQS keeps messages in memory, so it is stopped only once every event was delivered: what an
   * outage of the service looks like, never a loss of its messages). Only for a stack started with `ownSqs`.
   */
  sqsOutage(during: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startFaultStack}. */
export interface FaultStackOptions {
  /** The run's shared SQS server for the gateway's queues; absent: an SQS server of the stack's own. */
  sqsEndpoint?: string;
  /** A daily limit on both channels' profiles (minor units), so every payment reserves routed daily volume. */
  dailyLimitMinor?: number;
}

/** The external channels the fault suite pays through. */
export type ExternalChannel = 'ALIPAY' | 'WECHAT_PAY';

/** The merchant's fields of a recharge. */
export interface RechargeFields {
  order_no: string;
  account_id: string;
  amount: string;
}

/**
 * One fault-injection stack: a table of its own on the run's DynamoDB Local (so a restarted relay may re-read its
 * whole stream), queues of its own, local Alipay and WeChat Pay servers configured as the channel CLI does, a merchant
 * whose webhooks reach a counting endpoint, and the gateway as a child process on a fixed port (the channel's notify
 * URL must survive restarts).
 */
export async function startFaultStack(options: FaultStackOptions): Promise<FaultStack> {
  const saved = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
  const table = await channelTable();
  const secretsDir = mkdtempSync(join(tmpdir(), 'fault-secrets-'));
  let ownSqs: LocalSqs | undefined = options.sqsEndpoint ? undefined : await startLocalSqs();
  const sqsEndpoint = options.sqsEndpoint ?? (ownSqs?.endpoint as string);
  const sqs = new SQSClient({
    endpoint: sqsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const queueOptions = {
    suffix: `-${randomBytes(5).toString('hex')}`,
    visibilityTimeoutSeconds: TEST_VISIBILITY_TIMEOUT_SECONDS,
  };
  const queues: QueueUrls = await createQueues(sqs, queueOptions);
  const port = await freePort();
  const apiBase = `http://127.0.0.1:${port}`;
  const env = {
    TABLE_NAME: table.tableName,
    CHANNEL_SECRETS_DIR: secretsDir,
    PUBLIC_BASE_URL: apiBase,
    AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    NOTIFY_QUEUE_URL: queues.notifyQueueUrl,
    NOTIFY_DLQ_URL: queues.notifyDlqUrl,
  };
  Object.assign(process.env, env);
  const channels = await startLocalChannels();
  await configureRealChannels({
    db: table.db,
    tableName: table.tableName,
    secretsDir,
    apiBase,
    channels,
    weights: { ALIPAY: 1, WECHAT_PAY: 1 },
    dailyLimitMinor: options.dailyLimitMinor,
  });
  // The test's container never starts a workflow: it drives the timers' handlers itself.
  const workflows: Workflows = {
    startNotifyRetry: async () => {
      throw new Error('the fault suite drives no notify retries from the test process');
    },
    armExpiry: async () => 'armed',
  };
  const container = { ...createContainer(loadConfig()), workflows };
  let secret = '';
  const merchant = await startMerchantEndpoint(() => secret);
  const created = await createMerchant(container, {
    id: uniqueId('mch'),
    name: 'Fault suite',
    notifyUrl: merchant.url,
  });
  secret = created.secret;
  const client = new MerchantClient({ apiBase, merchantId: created.merchant.id, merchantSecret: secret });
  const bundle = await buildGatewayBundle();
  const gateway = new GatewayChild(bundle, {
    ...process.env,
    ...env,
    FAULT_PORT: String(port),
    FAULT_PROJECT_ROOT: GATEWAY_PROJECT_ROOT,
  });
  await gateway.start();

  const notifyUrls = callbackUrls(apiBase);
  const untilAcknowledged = async (
    send: () => Promise<{ status: number; body: string }>,
    ok: (answer: { status: number; body: string }) => boolean,
  ) => {
    const { attempts } = await untilAnswered(async () => {
      const answer = await send();
      return ok(answer) ? answer : undefined;
    });
    return attempts;
  };
  const notifyUntilAcknowledged = (paymentId: string, channel: ExternalChannel = 'ALIPAY') =>
    channel === 'ALIPAY'
      ? untilAcknowledged(
          () => channels.alipay.server.sendNotification(notifyUrls.alipay, paymentId),
          (answer) => answer.body === 'success',
        )
      : untilAcknowledged(
          () => channels.wechat.server.sendTransactionNotification(notifyUrls.wechat, outTradeNoOf(paymentId)),
          (answer) => answer.status === 204,
        );
  const pay = (paymentId: string, channel: ExternalChannel = 'ALIPAY') => {
    if (channel === 'ALIPAY') channels.alipay.server.pay(paymentId);
    else channels.wechat.server.pay(outTradeNoOf(paymentId));
  };
  const createRecharge = async (fields: RechargeFields, channel: ExternalChannel | 'AUTO' = 'ALIPAY') => {
    const answer = await client.request<Json>('POST', '/v1/payments', {
      ...fields,
      currency: 'CNY',
      subject: 'Wallet top-up',
      ...(channel === 'AUTO' ? {} : { channel }),
      method: 'QR',
    });
    if (answer.status !== 201) throw new Error(`create: ${JSON.stringify(answer)}`);
    return answer.body;
  };
  return {
    gateway,
    apiBase,
    merchantId: created.merchant.id,
    client,
    merchant,
    channels,
    container,
    tableName: table.tableName,
    createRecharge,
    pay,
    notifyUntilAcknowledged,
    notifyRefundUntilAcknowledged: (refundId) =>
      untilAcknowledged(
        () => channels.wechat.server.sendRefundNotification(notifyUrls.wechat, refundId),
        (answer) => answer.status === 204,
      ),
    async requestUntilAnswered(method, path, body) {
      // A 5xx is no answer either: the merchant retries it like a dropped connection.
      const { value } = await untilAnswered(async () => {
        const answer = await client.request<Json>(method, path, body);
        return answer.status >= 500 ? undefined : answer;
      });
      return value;
    },
    async paidRecharge(amount, channel = 'ALIPAY') {
      const accountId = uniqueId('user');
      const fields = { order_no: uniqueId('ORD'), account_id: accountId, amount };
      const id = String((await createRecharge(fields, channel)).id);
      pay(id, channel);
      await notifyUntilAcknowledged(id, channel);
      return { id, accountId };
    },
    async crashDuring(fault, action) {
      await gateway.arm(fault);
      const outcome = action().then(
        () => 'answered' as const,
        () => 'connection lost' as const,
      );
      await gateway.crashedAt(fault);
      await gateway.restart();
      return outcome;
    },
    async sqsOutage(during) {
      if (!ownSqs) throw new Error('sqsOutage needs a stack with an SQS server of its own');
      const port = Number(new URL(ownSqs.endpoint).port);
      await ownSqs.stop();
      ownSqs = undefined;
      try {
        await during();
      } finally {
        ownSqs = await startLocalSqs({ port });
        await createQueues(sqs, queueOptions);
      }
    },
    async stop() {
      await gateway.stop();
      await merchant.stop();
      await channels.stop();
      for (const url of [queues.notifyQueueUrl, queues.notifyDlqUrl]) {
        await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
      }
      sqs.destroy();
      await ownSqs?.stop();
      await table.drop();
      rmSync(secretsDir, { recursive: true, force: true });
      rmSync(dirname(bundle), { recursive: true, force: true });
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
}

const ENV_NAMES = [
  'TABLE_NAME',
  'CHANNEL_SECRETS_DIR',
  'PUBLIC_BASE_URL',
  'AWS_ENDPOINT_URL_SQS',
  'NOTIFY_QUEUE_URL',
  'NOTIFY_DLQ_URL',
] as const;

/**
 * Calls `attempt` until it returns a value, retrying after connection errors (the gateway is down or restarting) —
 * what a channel re-sending a notification, or a merchant re-sending a request, does.
 */
async function untilAnswered<T>(attempt: () => Promise<T | undefined>): Promise<{ value: T; attempts: number }> {
  const deadline = Date.now() + RETRY_FOR_MS;
  for (let attempts = 1; ; attempts++) {
    try {
      const value = await attempt();
      if (value !== undefined) return { value, attempts };
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`no answer within ${RETRY_FOR_MS} ms`);
    await sleep(200);
  }
}

/** A port free right now (the gateway process binds it, and its successors bind it again). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}
