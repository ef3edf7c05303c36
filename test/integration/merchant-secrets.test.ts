import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { LocalSecretCipher } from '#adapters/crypto/secret-cipher.ts';
import { authenticate } from '#app/authenticate.ts';
import { createMerchant, rotateMerchantSecret } from '#app/merchant-admin.ts';
import { signMerchantRequest } from '#domain/signing.ts';
import { TEST_SECRETS } from '../support/constants.ts';
import { testContainer, uniqueId } from '../support/fixtures.ts';

const container = testContainer();

function signedRequest(merchantId: string, secret: string, at: Date, nonce = uniqueId('nonce-abcdefgh')) {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const request = { method: 'GET', pathAndQuery: '/v1/accounts/a/balance', timestamp, nonce, body: '' };
  return {
    method: 'GET',
    pathAndQuery: request.pathAndQuery,
    body: '',
    headers: {
      'x-merchant-id': merchantId,
      'x-timestamp': timestamp,
      'x-nonce': nonce,
      'x-signature': signMerchantRequest(secret, request),
    },
  };
}

describe('merchant secrets', () => {
  it('stores only ciphertext: the plaintext secret appears nowhere in the table', async () => {
    const { merchant, secret } = await createMerchant(container, { id: uniqueId('mch'), name: 'Secretive' });
    // The whole table, page by page (it holds every test's data): the secret is in no item, audit entries included.
    const items: Record<string, unknown>[] = [];
    for await (const page of paginateScan({ client: container.db }, { TableName: container.config.tableName })) {
      for (const item of page.Items ?? []) {
        expect(JSON.stringify(item)).not.toContain(secret);
        if (item.PK === `MERCHANT#${merchant.id}` || item.merchantId === merchant.id) items.push(item);
      }
    }
    const profile = items.filter((item) => item.entity === 'MERCHANT');
    expect(profile).toHaveLength(1);
    expect(String(profile[0]?.secretCiphertext)).toMatch(/^local:/);
    expect(items.some((item) => item.entity === 'AUDIT')).toBe(true);
  });

  it('binds a ciphertext to its merchant: it does not decrypt for another merchant id', async () => {
    const cipher = new LocalSecretCipher(TEST_SECRETS.masterKey);
    const ciphertext = await cipher.encrypt('sk_abc', { merchant_id: 'm1' });
    expect(await cipher.decrypt(ciphertext, { merchant_id: 'm1' })).toBe('sk_abc');
    await expect(cipher.decrypt(ciphertext, { merchant_id: 'm2' })).rejects.toThrow();
  });

  it('accepts the previous secret during the grace period after a rotation and rejects it afterwards', async () => {
    const { merchant, secret: oldSecret } = await createMerchant(container, { id: uniqueId('mch'), name: 'Rotating' });
    const { secret: newSecret } = await rotateMerchantSecret(container, merchant.id, 3600);
    expect(newSecret).not.toBe(oldSecret);

    const now = new Date();
    const during = { ...container, clock: () => now };
    await expect(authenticate(during, signedRequest(merchant.id, newSecret, now))).resolves.toMatchObject({
      id: merchant.id,
    });
    await expect(authenticate(during, signedRequest(merchant.id, oldSecret, now))).resolves.toMatchObject({
      id: merchant.id,
    });

    const after = new Date(now.getTime() + 3601_000);
    const later = { ...container, clock: () => after };
    await expect(authenticate(later, signedRequest(merchant.id, oldSecret, after))).rejects.toMatchObject({
      code: 'AUTH_INVALID_SIGNATURE',
    });
    await expect(authenticate(later, signedRequest(merchant.id, newSecret, after))).resolves.toMatchObject({
      id: merchant.id,
    });
  });
});
