import { describe, expect, it } from 'vitest';
import { type AuthenticateDeps, authenticate } from '#app/authenticate.ts';
import type { Merchant } from '#domain/merchant.ts';
import { signMerchantRequest } from '#domain/signing.ts';

const SECRET = 'sk_unit_secret';
const NOW_SECONDS = 1_764_000_000;

const merchant: Merchant = {
  id: 'mch_unit',
  name: 'Unit',
  status: 'ACTIVE',
  secretCiphertext: 'plain',
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
};

/** In-memory ports: the merchant above, a nonce set, an identity cipher, and the given clock. */
function deps(now: Date): AuthenticateDeps {
  const used = new Set<string>();
  return {
    merchants: {
      get: async (id) => (id === merchant.id ? merchant : undefined),
      create: async () => true,
      update: async () => {},
    },
    nonces: { claim: async (_m, nonce) => !used.has(nonce) && Boolean(used.add(nonce)) },
    cipher: { encrypt: async (plain) => plain, decrypt: async () => SECRET },
    clock: () => now,
  };
}

let nonceCounter = 0;
function signed(timestamp: number, body: Uint8Array | string = '', signedBody: Uint8Array | string = body) {
  const nonce = `unit-nonce-${String(++nonceCounter).padStart(8, '0')}`;
  const request = { method: 'POST', pathAndQuery: '/v1/payments', timestamp: String(timestamp), nonce };
  return {
    ...request,
    body,
    headers: {
      'x-merchant-id': merchant.id,
      'x-timestamp': String(timestamp),
      'x-nonce': nonce,
      'x-signature': signMerchantRequest(SECRET, { ...request, body: signedBody }),
    },
  };
}

describe('the timestamp window', () => {
  // Server clocks carry milliseconds; the window is judged in whole seconds, the unit of X-Timestamp.
  const clocks = [0, 1, 500, 999].map((ms) => new Date(NOW_SECONDS * 1000 + ms));

  it.each(clocks)('accepts a timestamp exactly 300 s behind or ahead of %s', async (now) => {
    await expect(authenticate(deps(now), signed(NOW_SECONDS - 300))).resolves.toMatchObject({ id: merchant.id });
    await expect(authenticate(deps(now), signed(NOW_SECONDS + 300))).resolves.toMatchObject({ id: merchant.id });
  });

  it.each(clocks)('rejects a timestamp 301 s behind or ahead of %s with AUTH_TIMESTAMP_SKEW', async (now) => {
    for (const timestamp of [NOW_SECONDS - 301, NOW_SECONDS + 301]) {
      await expect(authenticate(deps(now), signed(timestamp))).rejects.toMatchObject({
        code: 'AUTH_TIMESTAMP_SKEW',
        httpStatus: 401,
      });
    }
  });
});

describe('the signed body', () => {
  const now = new Date(NOW_SECONDS * 1000);
  // 0xff and a lone continuation byte are not UTF-8: decoding would turn them into U+FFFD.
  const invalidUtf8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x80, 0x7d]);

  it('verifies the signature over the raw bytes, even when they are not UTF-8', async () => {
    await expect(authenticate(deps(now), signed(NOW_SECONDS, invalidUtf8))).resolves.toMatchObject({
      id: merchant.id,
    });
  });

  it('rejects a signature computed over the decoded text instead of the bytes', async () => {
    const request = signed(NOW_SECONDS, invalidUtf8, invalidUtf8.toString('utf8'));
    await expect(authenticate(deps(now), request)).rejects.toMatchObject({ code: 'AUTH_INVALID_SIGNATURE' });
  });
});
