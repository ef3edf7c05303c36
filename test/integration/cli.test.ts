import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DynamoChannelJournal } from '#adapters/dynamo/channel-journal.ts';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { CHANNEL_FIELDS } from '#domain/channel-fields.ts';
import type { JournalEntry } from '#domain/channel-journal.ts';
import { demoCli } from '../../local/demo.ts';
import { freePort } from '../../local/dynamodb-local.ts';
import { childProcessEnv } from '../../local/lambda-context.ts';
import { auditCli } from '../../scripts/audit.ts';
import { backfillCli } from '../../scripts/backfill.ts';
import { CHANNEL_SETUP_HELP, type ChannelCommandDeps, channelCli } from '../../scripts/channel-commands.ts';
import { type CliSpec, runCliCaptured, snakeCaseKeys } from '../../scripts/cli.ts';
import { feesCli } from '../../scripts/fees.ts';
import { journalCli } from '../../scripts/journal.ts';
import { merchantCli } from '../../scripts/merchant.ts';
import { reconcileCli } from '../../scripts/reconcile.ts';
import { walletCli } from '../../scripts/wallet.ts';

const root = resolve(import.meta.dirname, '..', '..');
const CLIS: CliSpec[] = [
  merchantCli,
  channelCli(() => {
    throw new Error('help needs no stack');
  }),
  reconcileCli,
  auditCli,
  journalCli,
  walletCli,
  backfillCli,
  demoCli,
  feesCli,
];

/** Runs a CLI in process and captures what it prints. */
const run = (spec: CliSpec, ...argv: string[]) => runCliCaptured(spec, argv);

/** Runs a CLI script as `npm run` would (node + tsx), in a child process with `env` (no AWS target unless given). */
function spawnCli(script: string, args: string[], env: Record<string, string>) {
  const { TABLE_NAME: _t, AWS_ENDPOINT_URL_DYNAMODB: _d, ...inherited } = childProcessEnv();
  return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, script), ...args],
      { cwd: root, env: { ...inherited, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('every CLI (one parser, --help everywhere)', () => {
  it('prints help for the CLI and for each of its commands, exit 0, without a stack', async () => {
    for (const spec of CLIS) {
      const top = await run(spec, '--help');
      expect(top, spec.name).toMatchObject({ code: 0, stderr: '' });
      expect(top.stdout).toContain(`npm run ${spec.name} --`);
      expect(top.stdout).toContain('Exit codes');
      for (const name of Object.keys(spec.commands ?? {})) {
        expect(top.stdout).toContain(name);
        const help = await run(spec, name, '--help');
        expect(help, `${spec.name} ${name}`).toMatchObject({ code: 0, stderr: '' });
        expect(help.stdout).toContain(`npm run ${spec.name} -- ${name}`);
      }
    }
  });

  it('usage mistakes exit 2 with a hint; no command prints the help to stderr', async () => {
    const unknownOption = await run(merchantCli, 'show', '--nope');
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/Unknown option '--nope'[\s\S]*npm run merchant -- show --help/);
    expect(await run(merchantCli, 'frobnicate')).toMatchObject({ code: 2, stderr: /unknown command 'frobnicate'/ });
    expect(await run(merchantCli, 'show')).toMatchObject({ code: 2, stderr: /--id is required/ });
    expect(await run(merchantCli)).toMatchObject({ code: 2, stdout: '', stderr: /Commands:/ });
    expect(await run(auditCli, 'list', '--since', 'yesterday')).toMatchObject({ code: 2 });
    expect(await run(reconcileCli, 'run', '--date', '2026-02-30', '--channel', 'SANDBOX')).toMatchObject({ code: 2 });
  });

  it('snake_cases keys deeply, except the values of verbatim keys', () => {
    expect(
      snakeCaseKeys(
        { merchantId: 'm', nested: [{ singleLimitMinor: 1 }], settings: { appId: 'x' } },
        new Set(['settings']),
      ),
    ).toEqual({ merchant_id: 'm', nested: [{ single_limit_minor: 1 }], settings: { appId: 'x' } });
  });
});

describe('npm run merchant (in process, against DynamoDB Local)', () => {
  it('create / show / disable / rotate print snake_case JSON; a refused operation exits 1', async () => {
    const id = `mch_cli_${Date.now()}`;
    const created = await run(merchantCli, 'create', '--name', 'CLI shop', '--id', id, '--mode', 'test');
    expect(created.code).toBe(0);
    expect(created.stderr).toMatch(/Store this secret now/);
    const merchant = JSON.parse(created.stdout) as Record<string, unknown>;
    expect(merchant).toMatchObject({ merchant_id: id, name: 'CLI shop', mode: 'test', status: 'ACTIVE' });
    expect(String(merchant.merchant_secret)).not.toBe('');

    const shown = await run(merchantCli, 'show', '--id', id);
    expect(shown.code).toBe(0);
    expect(Object.keys(JSON.parse(shown.stdout))).toEqual(expect.arrayContaining(['merchant_id', 'created_at']));
    expect(shown.stdout).not.toMatch(/secret|"[a-z]+[A-Z]\w*":/);

    expect(JSON.parse((await run(merchantCli, 'disable', '--id', id)).stdout)).toMatchObject({ status: 'DISABLED' });
    const rotated = await run(merchantCli, 'rotate', '--id', id, '--grace-seconds', '0');
    expect(Object.keys(JSON.parse(rotated.stdout))).toEqual([
      'merchant_id',
      'merchant_secret',
      'previous_secret_valid_until',
    ]);

    expect(await run(merchantCli, 'show', '--id', 'mch_nobody')).toMatchObject({ code: 1, stderr: /not found/ });
    expect(await run(merchantCli, 'create', '--name', 'Again', '--id', id)).toMatchObject({ code: 1 });

    const audit = await run(auditCli, 'list', '--since', new Date(Date.now() - 600_000).toISOString());
    expect(audit.code).toBe(0);
    const records = audit.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { resource?: { id?: string } });
    expect(records.filter((record) => record.resource?.id === id).length).toBeGreaterThanOrEqual(3);
  });
});

describe('npm run journal (in process, against DynamoDB Local)', () => {
  it("show prints a payment's entries oldest first as snake_case JSON lines; none, or a bad argument, exits non-zero", async () => {
    const paymentId = `pay_cli${Date.now()}`;
    const journal = new DynamoChannelJournal(createDocumentClient(), process.env.TABLE_NAME ?? '', 1);
    const entry = (id: string, at: string, operation: JournalEntry['operation']): JournalEntry => ({
      id,
      channel: 'ALIPAY',
      operation,
      paymentId,
      at,
      latencyMs: 5,
      outcome: 'OK',
      httpStatus: 200,
      channelTradeNo: 'T-1',
      request: '{"out_trade_no":"o-1","appPrivateKeyPem":"[REDACTED]"}',
      response: '{"code":"10000"}',
    });
    journal.record(entry('jrn_b', '2026-12-01T00:00:02.000Z', 'query'));
    journal.record(entry('jrn_a', '2026-12-01T00:00:01.000Z', 'create'));
    await journal.flush(60_000);

    const shown = await run(journalCli, 'show', '--payment', paymentId);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    const lines = shown.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.operation)).toEqual(['create', 'query']);
    expect(lines[1]).toMatchObject({
      payment_id: paymentId,
      latency_ms: 5,
      http_status: 200,
      channel_trade_no: 'T-1',
      // The bodies are strings, printed exactly as journaled.
      request: '{"out_trade_no":"o-1","appPrivateKeyPem":"[REDACTED]"}',
    });
    expect(lines.flatMap((line) => Object.keys(line)).filter((key) => /[A-Z]/.test(key))).toEqual([]);
    expect(
      (await run(journalCli, 'show', '--payment', paymentId, '--limit', '1')).stdout.trim().split('\n'),
    ).toHaveLength(1);

    expect(await run(journalCli, 'show', '--payment', 'pay_nobody')).toMatchObject({
      code: 1,
      stderr: /no journal entries for pay_nobody/,
    });
    expect(await run(journalCli, 'show')).toMatchObject({ code: 2, stderr: /--payment pay_… is required/ });
    expect(await run(journalCli, 'show', '--payment', paymentId, '--limit', '0')).toMatchObject({ code: 2 });
    expect(await run(journalCli, 'list')).toMatchObject({ code: 2, stderr: /unknown command 'list'/ });
  });
});

describe('channel secret files are documented', () => {
  it('`set --help` and docs/channels.md name every setting and secret field of each channel', async () => {
    const help = (
      await run(
        channelCli(() => ({}) as ChannelCommandDeps),
        'set',
        '--help',
      )
    ).stdout;
    const docs = readFileSync(join(root, 'docs', 'channels.md'), 'utf8');
    expect(help).toContain(CHANNEL_SETUP_HELP.split('\n')[0]);
    for (const fields of Object.values(CHANNEL_FIELDS)) {
      for (const field of [...fields.settings, ...fields.secrets]) {
        expect(help).toContain(field);
        expect(docs).toContain(`\`${field}\``);
      }
    }
  });
});

describe('CLIs as child processes (npm run …)', () => {
  it('--help exits 0; with no stack running each says so and exits 3 (not `fetch failed`)', {
    timeout: 600_000,
  }, async () => {
    const noStack = mkdtempSync(join(tmpdir(), 'cli-nostack-'));
    const help = await spawnCli('scripts/merchant.ts', ['--help'], { PAY_GATEWAY_LOCAL_DIR: noStack });
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/npm run merchant -- <command>[\s\S]*rotate/);

    const none = await spawnCli('scripts/channel.ts', ['list'], { PAY_GATEWAY_LOCAL_DIR: noStack });
    expect(none).toMatchObject({ code: 3, stdout: '' });
    expect(none.stderr).toMatch(/local stack is not running.*npm start/);

    // A stack that crashed left its stack.json behind: nothing answers at its endpoints.
    const stale = mkdtempSync(join(tmpdir(), 'cli-stale-'));
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    writeFileSync(join(stale, 'stack.json'), JSON.stringify({ api_base: endpoint, dynamodb_endpoint: endpoint }));
    writeFileSync(
      join(stale, 'credentials.json'),
      JSON.stringify({ api_base: endpoint, merchant_id: 'mch_demo', merchant_secret: 'x' }),
    );
    const demo = await spawnCli('local/demo.ts', ['--unpaid'], { PAY_GATEWAY_LOCAL_DIR: stale });
    expect(demo.code).toBe(3);
    expect(demo.stderr).toMatch(/local stack is not running \(nothing answers at 127\.0\.0\.1:\d+\)/);
    expect(demo.stderr).not.toMatch(/fetch failed/);
    const show = await spawnCli('scripts/merchant.ts', ['show', '--id', 'mch_demo'], { PAY_GATEWAY_LOCAL_DIR: stale });
    expect(show.code).toBe(3);
    expect(show.stderr).toMatch(/local stack is not running/);
    const journal = await spawnCli('scripts/journal.ts', ['show', '--payment', 'pay_1'], {
      PAY_GATEWAY_LOCAL_DIR: stale,
    });
    expect(journal).toMatchObject({ code: 3, stdout: '' });
    expect(journal.stderr).toMatch(/^npm run journal -- show: the local stack is not running/);
  });
});
