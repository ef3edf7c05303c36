import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContainer } from '#adapters/container.ts';
import { createPayment } from '#app/create-payment.ts';
import { createMerchant } from '#app/merchant-admin.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import { loadConfig } from '#shared/config.ts';
import { channelTable } from '../support/channel-table.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

describe('the sandbox switch', () => {
  it('offers no sandbox channel unless SANDBOX_ENABLED is true, so nobody can pay with test money', async () => {
    const production = createContainer(loadConfig({ ...process.env, SANDBOX_ENABLED: undefined }));
    expect(production.channels.has('SANDBOX')).toBe(false);
    expect([...production.channels.keys()].sort()).toEqual(['ALIPAY', 'BALANCE', 'WECHAT_PAY']);
    const { merchant } = await newMerchant(testContainer());
    const body = parseInput(createPaymentSchema({ allowLoopbackHttp: false }), {
      order_no: uniqueId('O'),
      amount: '1.00',
      subject: 'x',
      channel: 'SANDBOX',
    });
    await expect(createPayment(production, merchant, body)).rejects.toMatchObject({ code: 'CHANNEL_NOT_SUPPORTED' });
  });

  it('fails at first use, not at start-up, when a function was given no merchant key or sandbox secret', async () => {
    const bare = createContainer(
      loadConfig({ ...process.env, LOCAL_MASTER_KEY: undefined, SANDBOX_SECRET: undefined, SANDBOX_ENABLED: 'true' }),
    );
    await expect(bare.cipher.decrypt('local:AAAA', { merchant_id: 'm' })).rejects.toThrow(/no merchant key/);
    await expect(bare.sandboxSecret()).rejects.toThrow(/no sandbox secret/);
  });
});

describe('routed payments and the sandbox', () => {
  // A table of its own: no channel profile is configured there, so the sandbox is the only other candidate.
  let table: Awaited<ReturnType<typeof channelTable>>;
  let gateway: ReturnType<typeof createContainer>;
  beforeAll(async () => {
    table = await channelTable();
    gateway = createContainer(loadConfig({ ...process.env, TABLE_NAME: table.tableName, SANDBOX_ENABLED: 'true' }));
  }, 60_000);
  afterAll(async () => {
    await table?.drop();
  });

  const routedBody = () =>
    parseInput(createPaymentSchema({ allowLoopbackHttp: false }), {
      order_no: uniqueId('O'),
      amount: '1.00',
      subject: 'x',
      method: 'QR',
    });

  it("never lands a live merchant's routed payment on the sandbox, though the merchant may name it", async () => {
    const { merchant } = await createMerchant(gateway, { id: uniqueId('mch'), name: 'Live' });
    expect(merchant.mode).toBeUndefined();
    await expect(createPayment(gateway, merchant, routedBody())).rejects.toMatchObject({
      code: 'NO_CHANNEL_AVAILABLE',
      httpStatus: 503,
    });
    const named = await createPayment(gateway, merchant, { ...routedBody(), channel: 'SANDBOX' });
    expect(named.payment.channel).toBe('SANDBOX');
  });

  it("routes a test-mode merchant's payment to the sandbox", async () => {
    const { merchant } = await createMerchant(gateway, { id: uniqueId('mch'), name: 'Tester', mode: 'test' });
    expect((await gateway.merchants.get(merchant.id))?.mode).toBe('test');
    const routed = await createPayment(gateway, merchant, routedBody());
    expect(routed.payment.channel).toBe('SANDBOX');
  });
});
