import { describe, expect, it } from 'vitest';
import { createContainer } from '#adapters/container.ts';
import { createPayment } from '#app/create-payment.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import { loadConfig } from '#shared/config.ts';
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
