import { describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/dynamo/audit-log.ts';
import { createPayment } from '#app/create-payment.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { addBlacklistEntry } from '#app/risk-admin.ts';
import { parseInput } from '#app/validation.ts';
import { CliError, runCliCaptured, runCliForJson } from '../../scripts/cli.ts';
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

  it("lists a merchant's blocked attempts from the audit trail as snake_case JSON lines", async () => {
    const { merchant } = await newMerchant(container);
    const device = uniqueId('dev');
    await addBlacklistEntry(container, { kind: 'device', value: device });
    const orderNo = uniqueId('B');
    const request = parseInput(createPaymentSchema({ allowLoopbackHttp: false }), {
      order_no: orderNo,
      subject: 'top-up',
      amount: '12.34',
      device_id: device,
    });
    await expect(createPayment(container, merchant, request)).rejects.toMatchObject({ code: 'RISK_REJECTED' });
    const since = new Date(Date.now() - 600_000).toISOString();
    const listed = await runCliCaptured(riskCli, ['blocked', 'list', '--merchant', merchant.id, '--since', since]);
    expect(listed.code).toBe(0);
    const lines = listed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      merchant_id: merchant.id,
      order_no: orderNo,
      amount: '12.34',
      currency: 'CNY',
      channel: 'AUTO',
      rules: ['blacklist.device'],
    });
    expect(typeof lines[0]?.score).toBe('number');
    const other = await runCliCaptured(riskCli, ['blocked', 'list', '--merchant', 'mch_nobody', '--since', since]);
    expect([other.code, other.stdout]).toEqual([0, '']);
    expect((await runCliCaptured(riskCli, ['blocked', 'list'])).code).toBe(2);
    expect((await runCliCaptured(riskCli, ['blocked', 'list', '--merchant', merchant.id, '--since', 'x'])).code).toBe(
      2,
    );
  });

  it('answers a usage error with exit 2', async () => {
    await expect(risk('review', 'approve')).rejects.toThrow(/exit 2/);
    await expect(risk('rules', 'drop')).rejects.toThrow(/exit 2/);
  });
});
