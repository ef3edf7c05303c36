import { describe, expect, it } from 'vitest';
import { newMerchant, testContainer } from '../support/fixtures.ts';

describe('test environment', () => {
  it('stores and reads a merchant in DynamoDB Local', async () => {
    const container = testContainer();
    const { merchant } = await newMerchant(container);
    expect((await container.merchants.get(merchant.id))?.name).toBe(merchant.name);
  });
});
