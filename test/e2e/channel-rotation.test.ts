import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChannelSecrets } from '#adapters/channel-secrets.ts';
import { DynamoChannelHealthRepository } from '#adapters/dynamo/channel-health-repository.ts';
import { DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import { newId } from '#shared/ids.ts';
import type { MerchantClient } from '../../local/merchant-client.ts';
import { channelCli } from '../../scripts/channel-commands.ts';
import { runCliForJson } from '../../scripts/cli.ts';
import { type LocalAlipayServer, startAlipayServer } from '../support/channels/alipay-server.ts';
import { uniqueId } from '../support/fixtures.ts';
import { createQrPayment, type RealChannelStack, startRealChannelStack } from '../support/real-channel-stack.ts';
import { callbackUrls, rsaKeyPair } from '../support/real-channels.ts';

let real: RealChannelStack;
let client: MerchantClient;
let replacement: LocalAlipayServer;
const saved = process.env.CHANNEL_CONFIG_TTL_MS;

beforeAll(async () => {
  // Every request re-reads the profile here; the TTL itself is proven with an injected clock in the integration test.
  process.env.CHANNEL_CONFIG_TTL_MS = '0';
  real = await startRealChannelStack({ ALIPAY: 1, WECHAT_PAY: 1 });
  ({ client } = await real.stack.newClient());
}, 120_000);

afterAll(async () => {
  await Promise.all([real?.stop(), replacement?.stop()]);
  if (saved === undefined) delete process.env.CHANNEL_CONFIG_TTL_MS;
  else process.env.CHANNEL_CONFIG_TTL_MS = saved;
});

/** The channel CLI against the running stack's table and secret directory. */
function channelSet() {
  const dir = mkdtempSync(join(tmpdir(), 'rotation-e2e-'));
  const deps = {
    profiles: new DynamoChannelProfileRepository(real.table.db, real.table.tableName),
    health: new DynamoChannelHealthRepository(real.table.db, real.table.tableName, { cacheTtlMs: 0 }),
    secrets: new LocalChannelSecrets(real.secretsDir),
    clock: () => new Date(),
    newId,
    sandboxEnabled: true,
  };
  return (secret: object, ...argv: string[]) => {
    const file = join(dir, `${uniqueId('secret')}.json`);
    writeFileSync(file, JSON.stringify(secret));
    return runCliForJson(
      channelCli(() => deps),
      ['set', '--channel', 'ALIPAY', '--secret-file', file, ...argv],
    );
  };
}

describe('channel configuration changed while the stack runs (local Alipay servers)', () => {
  it('sends the next request to the new URL with the new keys; the old key verifies for the grace period only', async () => {
    const { alipay } = real.channels;
    const notifyUrl = callbackUrls(real.stack.apiBase).alipay;
    const accountId = uniqueId('user');
    const before = await createQrPayment(client, { channel: 'ALIPAY', account_id: accountId });
    expect(before.status).toBe(201);
    const paidBefore = String(before.body.id);
    expect(alipay.server.trades.has(paidBefore)).toBe(true);
    alipay.server.pay(paidBefore);

    // Alipay's key and the app key are rotated and the account moves to another gateway URL.
    const [app, alipayKeys] = [rsaKeyPair(), rsaKeyPair()];
    replacement = await startAlipayServer({
      appId: alipay.appId,
      appPublicKeyPem: app.publicKeyPem,
      alipayPrivateKeyPem: alipayKeys.privateKeyPem,
    });
    const set = channelSet();
    const rotated = await set(
      { appPrivateKeyPem: app.privateKeyPem, alipayPublicKeyPem: alipayKeys.publicKeyPem },
      '--setting',
      `gatewayUrl=${replacement.url}`,
    );
    expect(rotated).toMatchObject({ secret: 'stored', retired_keys_valid_until: expect.any(String) });

    const after = await createQrPayment(client, { channel: 'ALIPAY', account_id: accountId });
    expect(after.status).toBe(201);
    const paidAfter = String(after.body.id);
    expect(replacement.trades.has(paidAfter)).toBe(true); // verified with the new app key by the new server
    expect(alipay.server.trades.has(paidAfter)).toBe(false);
    replacement.pay(paidAfter);

    // The old server (old Alipay key) and the new one (new key) both notify: both verify during the grace period.
    expect(await alipay.server.sendNotification(notifyUrl, paidBefore)).toEqual({ status: 200, body: 'success' });
    expect(await replacement.sendNotification(notifyUrl, paidAfter)).toEqual({ status: 200, body: 'success' });
    const balance = await client.request<Record<string, unknown>>(
      'GET',
      `/v1/accounts/${accountId}/balance?currency=CNY`,
    );
    expect(balance.body).toMatchObject({ available: '200.00', frozen: '0.00' });

    // Rotating again without grace retires the previous key at once: the old server's signature is refused.
    const third = rsaKeyPair();
    const pending = await createQrPayment(client, { channel: 'ALIPAY', account_id: accountId });
    expect(pending.status).toBe(201);
    await set(
      { appPrivateKeyPem: app.privateKeyPem, alipayPublicKeyPem: third.publicKeyPem },
      '--key-grace-seconds',
      '0',
    );
    replacement.pay(String(pending.body.id));
    expect(await replacement.sendNotification(notifyUrl, String(pending.body.id))).toEqual({
      status: 200,
      body: 'fail',
    });
    const still = await client.request<Record<string, unknown>>('GET', `/v1/payments/${pending.body.id}`);
    expect(still.body).toMatchObject({ status: 'PENDING' });
  });
});
