import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { channelKeys } from '#adapters/dynamo/channel-keys.ts';
import type { MerchantClient } from '../../local/merchant-client.ts';
import { channelTable } from './channel-table.ts';
import { uniqueId } from './fixtures.ts';
import { startHttpStack } from './http-stack.ts';
import { configureRealChannels, type LocalChannels, startLocalChannels } from './real-channels.ts';

/** What {@link startRealChannelStack} started. */
export interface RealChannelStack {
  table: Awaited<ReturnType<typeof channelTable>>;
  secretsDir: string;
  channels: LocalChannels;
  stack: Awaited<ReturnType<typeof startHttpStack>>;
  /** Forgets both channels' breakers (each test starts with healthy channels). */
  resetBreakers(): Promise<void>;
  /** Clears every injected behaviour of the local Alipay and WeChat Pay servers. */
  resetBehaviours(): void;
  /** Stops everything and restores the environment. */
  stop(): Promise<void>;
}

/**
 * The HTTP gateway wired to local Alipay and WeChat Pay protocol servers with the given routing weights. Profiles and
 * breakers are keyed by channel code, so the stack gets a table of its own, configured before the gateway's container
 * (created on its first request) reads the environment.
 */
export async function startRealChannelStack(weights: {
  ALIPAY: number;
  WECHAT_PAY: number;
}): Promise<RealChannelStack> {
  const saved = { TABLE_NAME: process.env.TABLE_NAME, CHANNEL_SECRETS_DIR: process.env.CHANNEL_SECRETS_DIR };
  const table = await channelTable();
  const secretsDir = mkdtempSync(join(tmpdir(), 'channel-secrets-'));
  process.env.TABLE_NAME = table.tableName;
  process.env.CHANNEL_SECRETS_DIR = secretsDir;
  const channels = await startLocalChannels();
  const stack = await startHttpStack();
  await configureRealChannels({
    db: table.db,
    tableName: table.tableName,
    secretsDir,
    apiBase: stack.apiBase,
    channels,
    weights,
  });
  return {
    table,
    secretsDir,
    channels,
    stack,
    async resetBreakers() {
      for (const channel of ['ALIPAY', 'WECHAT_PAY']) {
        await table.db.send(new DeleteCommand({ TableName: table.tableName, Key: channelKeys.health(channel) }));
      }
    },
    resetBehaviours() {
      for (const method of Object.keys(channels.alipay.server.behaviours)) {
        delete channels.alipay.server.behaviours[method as keyof typeof channels.alipay.server.behaviours];
      }
      for (const endpoint of Object.keys(channels.wechat.server.behaviours)) {
        delete channels.wechat.server.behaviours[endpoint as keyof typeof channels.wechat.server.behaviours];
      }
    },
    async stop() {
      await stack.stop();
      await channels.stop();
      await table.drop();
      rmSync(secretsDir, { recursive: true, force: true });
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
}

/** `POST /v1/payments` of a 100.00 CNY QR top-up that names no channel unless `fields` does. */
export function createQrPayment(client: MerchantClient, fields: Record<string, unknown> = {}) {
  return client.request<Record<string, unknown> & { error: { code: string; message: string } }>(
    'POST',
    '/v1/payments',
    {
      order_no: uniqueId('ORD'),
      amount: '100.00',
      currency: 'CNY',
      subject: 'Wallet top-up',
      method: 'QR',
      ...fields,
    },
  );
}
