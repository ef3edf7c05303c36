import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelAccounts } from '#adapters/channel-accounts.ts';
import { LocalChannelSecrets } from '#adapters/channel-secrets.ts';
import { AlipayChannel } from '#adapters/channels/alipay/alipay-channel.ts';
import { loadPrivateKey, signNotification } from '#adapters/channels/alipay/signing.ts';
import { WechatPayChannel } from '#adapters/channels/wechat-pay/wechat-pay-channel.ts';
import { DynamoChannelHealthRepository } from '#adapters/dynamo/channel-health-repository.ts';
import { DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import { alipayConfig, wechatPayConfig } from '#domain/channel-fields.ts';
import { rotateChannelSecret } from '#domain/channel-key-rotation.ts';
import { newId } from '#shared/ids.ts';
import { channelCli } from '../../scripts/channel-commands.ts';
import { runCliForJson } from '../../scripts/cli.ts';
import { channelTable } from '../support/channel-table.ts';
import { transactionNotification } from '../support/channels/wechat-pay-notifications.ts';
import { rsaKeyPair } from '../support/real-channels.ts';
import { type LocalWechatPay, PUB_KEY_ID, paidWechatPayment, pem, startLocalWechatPay } from '../support/wechat-pay.ts';

let table: Awaited<ReturnType<typeof channelTable>>;
let wechat: LocalWechatPay;
beforeAll(async () => {
  [table, wechat] = await Promise.all([channelTable(), startLocalWechatPay()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([table?.drop(), wechat?.server.stop()]);
});

/** A clock the test moves by hand. */
function manualClock(start = Date.now()) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

/** The channel CLI on this test's table and secret directory, with the given clock. */
function cli(clock: () => Date) {
  const dir = mkdtempSync(join(tmpdir(), 'channel-rotation-'));
  const deps = {
    profiles: new DynamoChannelProfileRepository(table.db, table.tableName),
    health: new DynamoChannelHealthRepository(table.db, table.tableName, { cacheTtlMs: 0 }),
    secrets: new LocalChannelSecrets(join(dir, 'channels')),
    clock,
    newId,
    sandboxEnabled: false,
  };
  let files = 0;
  return {
    deps,
    run: (...argv: string[]) =>
      runCliForJson(
        channelCli(() => deps),
        argv,
      ) as Promise<Record<string, unknown>>,
    file(secret: object) {
      const path = join(dir, `secret-${files++}.json`);
      writeFileSync(path, JSON.stringify(secret));
      return path;
    },
  };
}

/** A signed Alipay `TRADE_SUCCESS` notification for `appId`, signed with `privateKeyPem`. */
function alipayNotification(appId: string, privateKeyPem: string): string {
  const form: Record<string, string> = {
    notify_type: 'trade_status_sync',
    app_id: appId,
    charset: 'utf-8',
    sign_type: 'RSA2',
    trade_no: '2026120122001400000000000001',
    out_trade_no: 'pay_rotation1',
    trade_status: 'TRADE_SUCCESS',
    total_amount: '1.00',
    gmt_payment: '2026-12-01 10:00:00',
  };
  return new URLSearchParams({ ...form, sign: signNotification(form, loadPrivateKey(privateKeyPem)) }).toString();
}

describe('channel configuration follows changes (DynamoDB Local, injected clock)', () => {
  it('uses a cached configuration within the TTL, then the changed URL and secret once the profile version moves', async () => {
    const clock = manualClock();
    const { run, file, deps } = cli(clock.now);
    const app = rsaKeyPair();
    const first = rsaKeyPair();
    // biome-ignore format: one CLI invocation
    const base = ['set', '--channel', 'ALIPAY', '--methods', 'QR', '--currencies', 'CNY', '--enabled', 'true',
      '--setting', 'appId=2021000000000001', '--setting', 'notifyUrl=https://pay.example/v1/callbacks/alipay'];
    await run(
      ...base,
      '--setting',
      'gatewayUrl=https://one.example/gateway.do',
      '--secret-file',
      file({ appPrivateKeyPem: app.privateKeyPem, alipayPublicKeyPem: first.publicKeyPem }),
    );
    const accounts = new ChannelAccounts(deps.profiles, deps.secrets, { ttlMs: 5_000, clock: clock.now });
    const before = await accounts.config('ALIPAY', alipayConfig);
    expect(before.gatewayUrl).toBe('https://one.example/gateway.do');

    clock.advance(1_000);
    const second = rsaKeyPair();
    await run(
      ...base,
      '--setting',
      'gatewayUrl=https://two.example/gateway.do',
      '--secret-file',
      file({ appPrivateKeyPem: app.privateKeyPem, alipayPublicKeyPem: second.publicKeyPem }),
    );
    expect(await accounts.config('ALIPAY', alipayConfig)).toBe(before); // within the TTL: the cached object

    clock.advance(5_000);
    const after = await accounts.config('ALIPAY', alipayConfig);
    expect(after).not.toBe(before);
    expect(after.gatewayUrl).toBe('https://two.example/gateway.do');
    expect(after.alipayPublicKeyPem).toBe(second.publicKeyPem);
    expect(after.retiredAlipayPublicKey?.pem).toBe(first.publicKeyPem);

    clock.advance(5_000);
    expect(await accounts.config('ALIPAY', alipayConfig)).toBe(after); // re-checked, unchanged: same object
  });

  it('accepts an Alipay notification signed with the previous key during the grace period and refuses it after', async () => {
    const clock = manualClock();
    const { run, file, deps } = cli(clock.now);
    const app = rsaKeyPair();
    const [oldAlipay, newAlipay] = [rsaKeyPair(), rsaKeyPair()];
    const appId = '2021000000000002';
    // biome-ignore format: one CLI invocation
    const base = ['set', '--channel', 'ALIPAY', '--methods', 'QR', '--currencies', 'CNY', '--enabled', 'true',
      '--setting', `appId=${appId}`, '--setting', 'gatewayUrl=https://openapi.example/gateway.do',
      '--setting', 'notifyUrl=https://pay.example/v1/callbacks/alipay'];
    await run(
      ...base,
      '--secret-file',
      file({ appPrivateKeyPem: app.privateKeyPem, alipayPublicKeyPem: oldAlipay.publicKeyPem }),
    );
    const rotated = await run(
      ...base,
      '--key-grace-seconds',
      '3600',
      '--secret-file',
      file({ appPrivateKeyPem: app.privateKeyPem, alipayPublicKeyPem: newAlipay.publicKeyPem }),
    );
    expect(rotated.retired_keys_valid_until).toBe(new Date(clock.now().getTime() + 3_600_000).toISOString());
    expect(JSON.stringify(rotated)).not.toContain('BEGIN');

    const accounts = new ChannelAccounts(deps.profiles, deps.secrets, { ttlMs: 5_000, clock: clock.now });
    const channel = new AlipayChannel(() => accounts.config('ALIPAY', alipayConfig), { now: clock.now });
    const verify = (keyPem: string) =>
      channel.verifyAndParseCallback({ headers: {}, body: alipayNotification(appId, keyPem) });

    await expect(verify(newAlipay.privateKeyPem)).resolves.toMatchObject({ kind: 'payment' });
    await expect(verify(oldAlipay.privateKeyPem)).resolves.toMatchObject({ kind: 'payment' });
    clock.advance(3_600_000 - 1);
    await expect(verify(oldAlipay.privateKeyPem)).resolves.toMatchObject({ kind: 'payment' });
    clock.advance(1);
    await expect(verify(oldAlipay.privateKeyPem)).rejects.toMatchObject({ code: 'CALLBACK_SIGNATURE_INVALID' });
    await expect(verify(newAlipay.privateKeyPem)).resolves.toMatchObject({ kind: 'payment' });
    await expect(verify(rsaKeyPair().privateKeyPem)).rejects.toMatchObject({ code: 'CALLBACK_SIGNATURE_INVALID' });
  });

  it('accepts a WeChat Pay callback signed under the previous platform key during the grace period and refuses it after', async () => {
    const clock = manualClock();
    const { run, file, deps } = cli(clock.now);
    const { config } = wechat;
    // biome-ignore format: one CLI invocation
    const base = ['set', '--channel', 'WECHAT_PAY', '--methods', 'QR', '--currencies', 'CNY', '--enabled', 'true',
      '--setting', `mchId=${config.mchId}`, '--setting', `appId=${config.appId}`, '--setting', `baseUrl=${config.baseUrl}`,
      '--setting', `notifyUrl=${config.notifyUrl}`, '--setting', `merchantSerialNo=${config.merchantSerialNo}`];
    const secretOf = (platformKeys: Record<string, string>) =>
      file({ merchantPrivateKeyPem: config.merchantPrivateKeyPem, apiV3Key: config.apiV3Key, platformKeys });
    await run(...base, '--secret-file', secretOf(config.platformKeys));
    const next = rsaKeyPair();
    await run(...base, '--key-grace-seconds', '120', '--secret-file', secretOf({ PUB_KEY_ID_NEXT: next.publicKeyPem }));

    const accounts = new ChannelAccounts(deps.profiles, deps.secrets, { ttlMs: 5_000, clock: clock.now });
    const channel = new WechatPayChannel(() => accounts.config('WECHAT_PAY', wechatPayConfig), {
      timeoutMs: 60_000,
      clock: clock.now,
    });
    const paid = await paidWechatPayment(wechat); // created through the test's own channel on the same server
    const order = wechat.server.orders.get(paid.id.slice('pay_'.length));
    const signedByOld = () =>
      transactionNotification(
        { serial: PUB_KEY_ID, key: wechat.platform.privateKey, apiV3Key: config.apiV3Key },
        order,
      );

    await expect(channel.verifyAndParseCallback(signedByOld())).resolves.toMatchObject({ kind: 'payment' });
    clock.advance(120_000); // still inside the ±300 s timestamp window, but past the grace period
    await expect(channel.verifyAndParseCallback(signedByOld())).rejects.toMatchObject({
      code: 'CALLBACK_SIGNATURE_INVALID',
    });
    expect(pem(wechat.platform.publicKey, 'spki')).toBe(config.platformKeys[PUB_KEY_ID]);
  });
});

describe('rotateChannelSecret', () => {
  const now = new Date('2026-12-01T00:00:00.000Z');
  it('retires only keys that changed, and carries a running grace period over an unchanged re-run', () => {
    const first = { appPrivateKeyPem: 'A', alipayPublicKeyPem: 'OLD' };
    expect(rotateChannelSecret('ALIPAY', undefined, first, now, 60)).toEqual(first);
    expect(rotateChannelSecret('ALIPAY', first, first, now, 60)).toEqual(first);
    const rotated = rotateChannelSecret('ALIPAY', first, { ...first, alipayPublicKeyPem: 'NEW' }, now, 60);
    expect(rotated.retiredKeys).toEqual({ validUntil: '2026-12-01T00:01:00.000Z', alipayPublicKeyPem: 'OLD' });
    const rerun = rotateChannelSecret('ALIPAY', rotated, { ...first, alipayPublicKeyPem: 'NEW' }, now, 60);
    expect(rerun.retiredKeys).toEqual(rotated.retiredKeys);
    const later = new Date('2026-12-01T00:01:00.000Z');
    expect(
      rotateChannelSecret('ALIPAY', rotated, { ...first, alipayPublicKeyPem: 'NEW' }, later, 60),
    ).not.toHaveProperty('retiredKeys');
    const wechatBefore = { platformKeys: { S1: 'P1', S2: 'P2' } };
    const wechatAfter = rotateChannelSecret(
      'WECHAT_PAY',
      wechatBefore,
      { platformKeys: { S2: 'P2', S3: 'P3' } },
      now,
      60,
    );
    expect(wechatAfter.retiredKeys).toEqual({ validUntil: '2026-12-01T00:01:00.000Z', platformKeys: { S1: 'P1' } });
  });
});
