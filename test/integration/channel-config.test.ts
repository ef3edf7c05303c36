import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceExistsException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChannelSecrets, SecretsManagerChannelSecrets } from '#adapters/channel-secrets.ts';
import { DynamoAuditLog } from '#adapters/dynamo/audit-log.ts';
import { DynamoChannelHealthRepository } from '#adapters/dynamo/channel-health-repository.ts';
import { channelKeys } from '#adapters/dynamo/channel-keys.ts';
import { DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import { DynamoDailyVolumeRepository } from '#adapters/dynamo/daily-volume-repository.ts';
import { StaleStateError } from '#app/ports.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import { CHANNEL_FIELDS } from '#domain/channel-fields.ts';
import { newId } from '#shared/ids.ts';
import { channelCli } from '../../scripts/channel-commands.ts';
import { runCli, runCliForJson } from '../../scripts/cli.ts';
import { profileOf } from '../support/channel-fakes.ts';
import { channelTable } from '../support/channel-table.ts';
import { uniqueId } from '../support/fixtures.ts';

let table: Awaited<ReturnType<typeof channelTable>>;
beforeAll(async () => {
  table = await channelTable();
});
afterAll(() => table.drop());

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';

describe('daily volume (DynamoDB Local)', () => {
  it('20 concurrent reservations never exceed the limit; a release gives volume back', async () => {
    const volume = new DynamoDailyVolumeRepository(table.db, table.tableName);
    const key = { channel: 'ALIPAY' as const, day: '2025-11-24', currency: 'CNY' };
    const now = new Date();
    const reserve = (k: typeof key, amountMinor: number, paymentId = uniqueId('pay')) =>
      volume.reserveDailyVolume(k, amountMinor, 100_000, paymentId, now);
    const ids = Array.from({ length: 20 }, () => uniqueId('pay'));
    const results = await Promise.all(ids.map((id) => reserve(key, 7_000, id)));
    expect(results.filter(Boolean)).toHaveLength(14);
    expect(await volume.dailyTotal(key)).toBe(98_000);
    expect(await reserve({ ...key, currency: 'USD' }, 7_000)).toEqual({});
    const admitted = ids[results.findIndex(Boolean)] ?? '';
    expect(await volume.releaseDailyVolume({ paymentId: admitted, key, amountMinor: 7_000 })).toBe(true);
    expect(await volume.releaseDailyVolume({ paymentId: admitted, key, amountMinor: 7_000 })).toBe(false); // once
    expect(await volume.dailyTotal(key)).toBe(91_000);
    expect(await reserve(key, 9_000)).toEqual({});
    expect(await reserve(key, 1)).toBe(false);
    expect(await volume.reserveDailyVolume({ ...key, day: '2025-11-25' }, 100_001, 100_000, uniqueId('pay'), now)).toBe(
      false,
    );
  });
});

describe('channel profiles (DynamoDB Local)', () => {
  const profiles = () => new DynamoChannelProfileRepository(table.db, table.tableName);

  it('are written conditionally and hold no secret field', async () => {
    const repo = profiles();
    const profile = profileOf('WECHAT_PAY', { settings: { mchId: '1900000109', appId: 'wx1' } });
    const smuggled = { ...profile, apiV3Key: 'k'.repeat(32), merchantPrivateKeyPem: PEM } as ChannelProfile;
    await repo.put(smuggled, null);
    await expect(repo.put(profile, null)).rejects.toBeInstanceOf(StaleStateError);
    await expect(repo.put({ ...profile, updatedAt: 'x' }, 'not-the-current')).rejects.toBeInstanceOf(StaleStateError);
    const { Item } = await table.db.send(
      new GetCommand({ TableName: table.tableName, Key: channelKeys.profile('WECHAT_PAY') }),
    );
    const secretNames = [...CHANNEL_FIELDS.WECHAT_PAY.secrets, ...CHANNEL_FIELDS.ALIPAY.secrets];
    expect(Object.keys(Item ?? {}).filter((name) => secretNames.includes(name as never))).toEqual([]);
    expect(JSON.stringify(Item)).not.toContain('BEGIN');
    expect(await repo.get('WECHAT_PAY')).toEqual(profile);
    expect((await repo.list()).map((p) => p.channel)).toContain('WECHAT_PAY');
  });

  it('refuse settings that look secret', async () => {
    const repo = profiles();
    const cases: Record<string, string>[] = [
      { appPrivateKeyPem: 'x' },
      { signingKey: 'x' },
      { note: PEM },
      { apiV3Key: 'x' },
    ];
    for (const settings of cases) {
      await expect(repo.put(profileOf('ALIPAY', { settings }), null)).rejects.toThrow(/look secret/);
    }
  });
});

describe('channel secrets', () => {
  it('LocalChannelSecrets round-trips a secret in a 0600 file and refuses path tricks', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'channels-')), 'channels');
    const secrets = new LocalChannelSecrets(dir);
    const secret = { appPrivateKeyPem: PEM, alipayPublicKeyPem: 'pub', platformKeys: { PUB_KEY_ID_1: 'pem' } };
    const ref = await secrets.put('alipay', secret);
    expect(ref).toBe('alipay');
    expect(await secrets.get(ref)).toEqual(secret);
    expect(statSync(join(dir, 'alipay.json')).mode & 0o777).toBe(0o600);
    await secrets.put('alipay', { ...secret, alipayPublicKeyPem: 'rotated' });
    expect((await secrets.get('alipay')).alipayPublicKeyPem).toBe('rotated');
    await expect(secrets.get('../secrets')).rejects.toThrow(/name/);
    await expect(secrets.get('missing')).rejects.toThrow(/does not exist/);
  });

  it('SecretsManagerChannelSecrets creates the secret under the KMS key, or puts a new version', async () => {
    const sent: { name: string; input: Record<string, unknown> }[] = [];
    const client = {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ name: command.constructor.name, input: command.input });
        if (command.constructor.name === 'CreateSecretCommand' && sent.length > 1) {
          throw new ResourceExistsException({ message: 'exists', $metadata: {} });
        }
        return {
          ARN: `arn:aws:secretsmanager:us-east-1:1:secret:${String(command.input.Name ?? command.input.SecretId)}`,
        };
      },
    } as unknown as SecretsManagerClient;
    const secrets = new SecretsManagerChannelSecrets({ client, kmsKeyId: 'alias/channels' });
    expect(await secrets.put('wechat_pay', { apiV3Key: 'k' })).toContain('pay-gateway/channels/wechat_pay');
    await secrets.put('wechat_pay', { apiV3Key: 'k2' });
    expect(sent.map((s) => s.name)).toEqual(['CreateSecretCommand', 'CreateSecretCommand', 'PutSecretValueCommand']);
    expect(sent[0]?.input).toMatchObject({ KmsKeyId: 'alias/channels', SecretString: '{"apiV3Key":"k"}' });
  });
});

describe('npm run channel (commands in-process)', () => {
  it('set / show / enable / disable / list / health never print secrets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'channel-cli-'));
    const secretFile = join(dir, 'alipay-secret.json');
    writeFileSync(secretFile, JSON.stringify({ appPrivateKeyPem: PEM, alipayPublicKeyPem: 'PUBLIC' }));
    const deps = {
      profiles: new DynamoChannelProfileRepository(table.db, table.tableName),
      health: new DynamoChannelHealthRepository(table.db, table.tableName, { cacheTtlMs: 0 }),
      secrets: new LocalChannelSecrets(join(dir, 'channels')),
      clock: () => new Date(),
      newId,
      sandboxEnabled: true,
    };
    const run = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(
        channelCli(() => deps),
        argv,
        {
          stdout: (text) => {
            stdout += text;
          },
          stderr: (text) => {
            stderr += text;
          },
        },
      );
      if (code !== 0) throw new Error(`exit ${code}: ${stderr}`);
      return stdout;
    };
    // biome-ignore format: one CLI invocation
    const set = [
      'set', '--channel', 'ALIPAY', '--weight', '5', '--methods', 'QR,PAGE', '--currencies', 'CNY',
      '--single-limit', '50000.00', '--daily-limit', '1000000.00', '--enabled', 'true',
      '--setting', 'appId=2021000000000001', '--setting', 'gatewayUrl=https://openapi.alipay.com/gateway.do',
      '--setting', 'notifyUrl=https://pay.example/v1/callbacks/alipay', '--secret-file', secretFile,
    ];
    const outputs = [await run(...set), await run('show', '--channel', 'ALIPAY'), await run('list')];
    outputs.push(await run('disable', '--channel', 'ALIPAY'), await run('enable', '--channel', 'alipay'));
    outputs.push(await run('health', '--channel', 'ALIPAY'));
    for (const output of outputs) expect(output).not.toMatch(/BEGIN|PUBLIC/);
    // snake_case keys everywhere, the settings as the operator named them
    for (const output of outputs) expect(output.replace(/"settings": \{[^}]*\}/g, '')).not.toMatch(/"[a-z]+[A-Z]\w*":/);
    expect(JSON.parse(outputs[1] ?? '')).toMatchObject({
      enabled: true,
      weight: 5,
      single_limit_minor: 5_000_000,
      daily_limit_minor: 100_000_000,
      single_limit: '50000.00',
      secret_ref: 'alipay',
      settings: { appId: '2021000000000001' },
    });
    expect(JSON.parse(outputs[5] ?? '')).toMatchObject({ status: 'CLOSED', admission: 'ALLOW' });
    expect(readFileSync(join(dir, 'channels', 'alipay.json'), 'utf8')).toContain('BEGIN PRIVATE KEY');
    await expect(
      run('set', '--channel', 'WECHAT_PAY', '--methods', 'QR', '--currencies', 'CNY', '--enabled', 'true'),
    ).rejects.toThrow(/exit 1: .*cannot enable WECHAT_PAY: channel secret wechat_pay does not exist/);
    const partial = join(dir, 'wechat-secret.json');
    writeFileSync(partial, JSON.stringify({ apiV3Key: 'k'.repeat(32) }));
    await expect(run('set', '--channel', 'WECHAT_PAY', '--enabled', 'true', '--secret-file', partial)).rejects.toThrow(
      /missing baseUrl, notifyUrl, merchantSerialNo, merchantPrivateKeyPem, platformKeys$/m,
    );

    // Every channel is listed: the built-in ones explained, then the configurable ones; the built-ins are never
    // configurable here.
    const listed = JSON.parse(outputs[2] ?? '[]') as { channel: string; built_in: boolean; configured: boolean }[];
    expect(listed.map((entry) => [entry.channel, entry.built_in, entry.configured])).toEqual([
      ['SANDBOX', true, true],
      ['BALANCE', true, true],
      ['ALIPAY', false, true],
      ['WECHAT_PAY', false, true],
    ]);
    expect(JSON.parse(await run('health', '--channel', 'sandbox'))).toMatchObject({ status: 'NOT_APPLICABLE' });
    await expect(run('disable', '--channel', 'SANDBOX')).rejects.toThrow(/exit 1: .*built in/);
    await expect(run('enable', '--channel', 'NOPE')).rejects.toThrow(/exit 2: .*--channel must be one of/);
    // A channel that was never configured is listed and shown as "not configured", has no breaker to report (it takes
    // no payments, so not a healthy CLOSED), and cannot be enabled.
    const empty = await channelTable();
    try {
      const fresh = { ...deps, profiles: new DynamoChannelProfileRepository(empty.db, empty.tableName) };
      const runFresh = async (...argv: string[]) => {
        let stdout = '';
        const code = await runCli(
          channelCli(() => fresh),
          argv,
          {
            stdout: (text) => {
              stdout += text;
            },
            stderr: (text) => {
              stdout += text;
            },
          },
        );
        return { code, stdout };
      };
      const notConfigured = { configured: false, status: 'NOT_CONFIGURED' };
      const health = await runFresh('health', '--channel', 'WECHAT_PAY');
      expect(health.code).toBe(0);
      expect(JSON.parse(health.stdout)).toMatchObject({ channel: 'WECHAT_PAY', ...notConfigured });
      expect(JSON.parse((await runFresh('show', '--channel', 'ALIPAY')).stdout)).toMatchObject(notConfigured);
      const all = JSON.parse((await runFresh('list')).stdout) as { channel: string; status?: string }[];
      expect(all.map((entry) => [entry.channel, entry.status])).toEqual([
        ['SANDBOX', undefined],
        ['BALANCE', undefined],
        ['ALIPAY', 'NOT_CONFIGURED'],
        ['WECHAT_PAY', 'NOT_CONFIGURED'],
      ]);
      expect(await runFresh('enable', '--channel', 'ALIPAY')).toMatchObject({ code: 1, stdout: /not configured/ });
    } finally {
      await empty.drop();
    }

    // Each accepted change left exactly one audit entry, the refused ones none, and none holds a secret.
    const audit = await new DynamoAuditLog(table.db, table.tableName).list({
      since: new Date(Date.now() - 3_600_000),
      until: new Date(Date.now() + 60_000),
    });
    const changes = audit.filter((record) => record.action === 'channel.configured');
    expect(changes.map((record) => [record.resource.id, record.after?.enabled, record.after?.secret])).toEqual([
      ['ALIPAY', true, 'replaced'],
      ['ALIPAY', false, 'unchanged'],
      ['ALIPAY', true, 'unchanged'],
    ]);
    expect(JSON.stringify(audit)).not.toMatch(/BEGIN|PUBLIC|kkkk/);
  });

  it('set --callback-allowlist stores, keeps, clears and audits the ranges; refuses malformed ones', async () => {
    const own = await channelTable();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'channel-allowlist-'));
      const secretFile = join(dir, 'alipay-secret.json');
      writeFileSync(secretFile, JSON.stringify({ appPrivateKeyPem: PEM, alipayPublicKeyPem: 'PUBLIC' }));
      const deps = {
        profiles: new DynamoChannelProfileRepository(own.db, own.tableName),
        health: new DynamoChannelHealthRepository(own.db, own.tableName, { cacheTtlMs: 0 }),
        secrets: new LocalChannelSecrets(join(dir, 'channels')),
        clock: () => new Date(),
        newId,
        sandboxEnabled: false,
      };
      const run = async (...argv: string[]) =>
        (await runCliForJson(
          channelCli(() => deps),
          argv,
        )) as { callback_allowlist?: string[] };
      const base = ['set', '--channel', 'ALIPAY', '--methods', 'QR', '--currencies', 'CNY'];
      const ranges = '110.75.0.0/16, 2400:1234::/32,203.0.113.7';
      const created = await run(...base, '--secret-file', secretFile, '--callback-allowlist', ranges);
      expect(created.callback_allowlist).toEqual(['110.75.0.0/16', '2400:1234::/32', '203.0.113.7']);
      expect((await run('set', '--channel', 'ALIPAY', '--weight', '3')).callback_allowlist).toHaveLength(3);
      for (const bad of ['110.75.0.0/33', 'alipay.com', '::1/129', '10.0.0.0/8/8']) {
        await expect(run('set', '--channel', 'ALIPAY', '--callback-allowlist', bad)).rejects.toThrow(
          /callback allowlist/,
        );
      }
      expect((await deps.profiles.get('ALIPAY'))?.callbackAllowlist).toHaveLength(3);
      expect((await run('set', '--channel', 'ALIPAY', '--callback-allowlist', 'none')).callback_allowlist).toBe(
        undefined,
      );
      expect((await deps.profiles.get('ALIPAY'))?.callbackAllowlist).toBeUndefined();
      const audit = await new DynamoAuditLog(own.db, own.tableName).list({
        since: new Date(Date.now() - 3_600_000),
        until: new Date(Date.now() + 60_000),
      });
      expect(audit.map((record) => [record.before?.callbackAllowlist, record.after?.callbackAllowlist])).toEqual([
        [undefined, ['110.75.0.0/16', '2400:1234::/32', '203.0.113.7']],
        [
          ['110.75.0.0/16', '2400:1234::/32', '203.0.113.7'],
          ['110.75.0.0/16', '2400:1234::/32', '203.0.113.7'],
        ],
        [['110.75.0.0/16', '2400:1234::/32', '203.0.113.7'], undefined],
      ]);
    } finally {
      await own.drop();
    }
  });
});
