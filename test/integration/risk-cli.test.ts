import { describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/dynamo/audit-log.ts';
import { CliError, runCliForJson } from '../../scripts/cli.ts';
import { riskCli } from '../../scripts/risk.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

/** `npm run risk` against DynamoDB Local (TABLE_NAME is set in tests): snake_case JSON, audited, refusals exit 1. */
const container = testContainer();
const risk = (...argv: string[]) => runCliForJson(riskCli, argv);

describe('npm run risk', () => {
  it('sets a merchant configuration as a new version and lists it back, currencies verbatim', async () => {
    const { merchant } = await newMerchant(container);
    const started = new Date(Date.now() - 1000);
    const set = (await risk(
      'rules',
      'set',
      '--merchant',
      merchant.id,
      '--json',
      '{"limits":{"CNY":{"payer_day":"100.00"}},"thresholds":{"review":40,"block":80}}',
    )) as Record<string, unknown>;
    expect(set).toMatchObject({ version: 1, merchant_id: merchant.id, thresholds: { review: 40, block: 80 } });
    expect(set.limits).toEqual({ CNY: { payer_day: '100.00' } });
    const listed = (await risk('rules', 'list', '--merchant', merchant.id)) as { config: Record<string, unknown> };
    expect(listed.config.version).toBe(1);
    const audit = await new DynamoAuditLog(container.db, container.config.tableName).list({
      since: started,
      until: new Date(Date.now() + 1000),
      merchantId: merchant.id,
    });
    expect(audit.map((record) => record.action)).toContain('risk.config_changed');
  });

  it('refuses an invalid configuration and changes nothing', async () => {
    const { merchant } = await newMerchant(container);
    await expect(
      risk('rules', 'set', '--merchant', merchant.id, '--json', '{"thresholds":{"review":90,"block":10}}'),
    ).rejects.toThrow(CliError);
    expect(await container.riskStore.config(merchant.id)).toBeUndefined();
  });

  it('adds, lists and removes a device entry with an expiry', async () => {
    const device = uniqueId('dev');
    const added = await risk('blacklist', 'add', '--kind', 'device', '--value', device, '--expires-in-seconds', '3600');
    expect(added).toMatchObject({ kind: 'device', value: device, merchant_id: null });
    const listed = (await risk('blacklist', 'list')) as { value: string }[];
    expect(listed.map((entry) => entry.value)).toContain(device);
    expect(await risk('blacklist', 'remove', '--kind', 'device', '--value', device)).toMatchObject({ removed: true });
    await expect(risk('blacklist', 'remove', '--kind', 'device', '--value', device)).rejects.toThrow(/exit 1/);
  });

  it('answers a usage error with exit 2', async () => {
    await expect(risk('review', 'approve')).rejects.toThrow(/exit 2/);
    await expect(risk('rules', 'drop')).rejects.toThrow(/exit 2/);
  });
});
