import { describe, expect, it } from 'vitest';
import { createPayment } from '#app/create-payment.ts';
import { createMerchant } from '#app/merchant-admin.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

const container = testContainer();
const schema = createPaymentSchema({ allowLoopbackHttp: false });

describe('tenant isolation of keys (DynamoDB Local)', () => {
  it('refuses a merchant id outside [A-Za-z0-9_-]{1,64} and stores nothing', async () => {
    const id = `${uniqueId('mch')}#k`;
    await expect(createMerchant(container, { id, name: 'hostile' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await container.merchants.get(id)).toBeUndefined();
  });

  it("never replays merchant m#k's payment to merchant m sending Idempotency-Key k#K1", async () => {
    const { merchant } = await newMerchant(container);
    // A hostile record stored behind the validation (e.g. written before it existed): only the key encoding protects.
    const neighbour: Merchant = { ...merchant, id: `${merchant.id}#k` };
    expect(await container.merchants.create(neighbour)).toBe(true);
    const body = parseInput(schema, { order_no: uniqueId('O'), amount: '1.00', subject: 'x', channel: 'SANDBOX' });

    const theirs = await createPayment(container, neighbour, body, 'K1');
    const mine = await createPayment(container, merchant, body, 'k#K1');

    expect(mine.replayed).toBe(false);
    expect(mine.payment.id).not.toBe(theirs.payment.id);
    expect(mine.payment.merchantId).toBe(merchant.id);
  });
});
