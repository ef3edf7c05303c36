import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hexEquals,
  hmacHex,
  merchantStringToSign,
  sha256Hex,
  signMerchantRequest,
  signNotification,
  signSandboxCallback,
  verifySandboxCallback,
} from '#domain/signing.ts';

// The test vectors at the bottom of API.md: a conforming implementation reproduces them exactly.
const MERCHANT_SECRET = 'sk_test_8f2b1c9d4e';
const MERCHANT_BODY =
  '{"order_no":"ORD1","amount":"100.00","currency":"CNY","subject":"top-up","channel":"SANDBOX","account_id":"user-42"}';
const MERCHANT_REQUEST = {
  method: 'POST',
  pathAndQuery: '/v1/payments',
  timestamp: '1764000000',
  nonce: 'n0nce-0123456789abcdef',
  body: MERCHANT_BODY,
};
const SANDBOX_BODY =
  '{"payment_id":"pay_1","channel_trade_no":"sbx_1","status":"SUCCESS","amount":"100.00","currency":"CNY","paid_at":"2025-11-24T16:00:00.000Z"}';

describe('contract test vectors', () => {
  it('hashes the merchant request body to the contract SHA-256', () => {
    expect(sha256Hex(MERCHANT_BODY)).toBe('d64875edab5b4aaf1bebb48f9b332dc0896326666d447cb39abbdd368a89d76f');
  });

  it('signs the merchant request to the contract X-Signature', () => {
    expect(signMerchantRequest(MERCHANT_SECRET, MERCHANT_REQUEST)).toBe(
      '22245880688a6fcb734a1388507998fffc0b440da6c3f61661985a92b641eda4',
    );
  });

  it('signs the merchant request body given as bytes like the same body as a string', () => {
    const bytes = new TextEncoder().encode(MERCHANT_BODY);
    expect(signMerchantRequest(MERCHANT_SECRET, { ...MERCHANT_REQUEST, body: bytes })).toBe(
      '22245880688a6fcb734a1388507998fffc0b440da6c3f61661985a92b641eda4',
    );
  });

  it('builds the string to sign from upper-case method, path, timestamp, nonce and body hash', () => {
    expect(merchantStringToSign({ ...MERCHANT_REQUEST, method: 'post' })).toBe(
      [
        'POST',
        '/v1/payments',
        '1764000000',
        'n0nce-0123456789abcdef',
        'd64875edab5b4aaf1bebb48f9b332dc0896326666d447cb39abbdd368a89d76f',
      ].join('\n'),
    );
  });

  it('hashes an empty body as the SHA-256 of the empty string', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('signs the notification to the contract v1 value', () => {
    expect(signNotification(MERCHANT_SECRET, 1764000000, '{"id":"evt_1","type":"payment.succeeded"}')).toBe(
      't=1764000000,v1=2b8d7a70af0322702f114b5216c483dd945c432dc9e5c7a6d4e71fa5a21f1da6',
    );
  });

  it('signs the sandbox callback to the contract X-Sandbox-Signature', () => {
    expect(signSandboxCallback('sbx_secret_1', SANDBOX_BODY)).toBe(
      'e7dbdeac89b32803a92bb20b5728cba1b5b0c5e964cf168b5c06807bd7545494',
    );
    expect(
      verifySandboxCallback(
        'sbx_secret_1',
        SANDBOX_BODY,
        'e7dbdeac89b32803a92bb20b5728cba1b5b0c5e964cf168b5c06807bd7545494',
      ),
    ).toBe(true);
  });

  it('rejects the sandbox callback signed with another secret', () => {
    const signature = signSandboxCallback('sbx_secret_2', SANDBOX_BODY);
    expect(verifySandboxCallback('sbx_secret_1', SANDBOX_BODY, signature)).toBe(false);
  });
});

describe('hexEquals', () => {
  const signature = hmacHex('secret', 'message');

  it('is true for equal lowercase hex strings', () => {
    expect(hexEquals(signature, signature)).toBe(true);
    expect(hexEquals('', '')).toBe(true);
  });

  it('is false for a different signature of the same length', () => {
    expect(hexEquals(signature, hmacHex('secret', 'other message'))).toBe(false);
  });

  it('is false for a different length', () => {
    expect(hexEquals(signature, signature.slice(0, -2))).toBe(false);
    expect(hexEquals(signature, `${signature}00`)).toBe(false);
    expect(hexEquals(signature, '')).toBe(false);
  });

  it('is false for the same signature in upper case', () => {
    expect(hexEquals(signature, signature.toUpperCase())).toBe(false);
  });

  it('is false for a non-hex string of the right length', () => {
    expect(hexEquals(signature, `${signature.slice(0, -1)}g`)).toBe(false);
    expect(hexEquals(signature, 'z'.repeat(signature.length))).toBe(false);
  });

  it('is false for distinct hex strings of the same odd length', () => {
    // Buffer.from(hex) silently drops a trailing odd nibble, so a comparison of the decoded bytes alone ignores it.
    expect(hexEquals('abc', 'abd')).toBe(false);
  });

  it('returns false rather than throwing when the expected value is not hex', () => {
    expect(() => hexEquals('zz', 'ab')).not.toThrow();
    expect(hexEquals('zz', 'ab')).toBe(false);
  });
});

describe('signature properties', () => {
  const secret = fc.string({ minLength: 1, maxLength: 64 });
  const body = fc.uint8Array({ minLength: 1, maxLength: 512 });

  it('verifies a sandbox signature over any body', () => {
    fc.assert(
      fc.property(secret, body, (key, bytes) => {
        expect(verifySandboxCallback(key, bytes, signSandboxCallback(key, bytes))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects the signature once any single byte of the body changes', () => {
    fc.assert(
      fc.property(secret, body, fc.nat(), fc.integer({ min: 1, max: 255 }), (key, bytes, at, flip) => {
        const signature = signSandboxCallback(key, bytes);
        const tampered = Uint8Array.from(bytes);
        const index = at % tampered.length;
        tampered[index] = (tampered[index] ?? 0) ^ flip;
        expect(verifySandboxCallback(key, tampered, signature)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects the signature once any single character of it changes', () => {
    fc.assert(
      fc.property(secret, body, fc.nat(), fc.constantFrom(...'0123456789abcdefABCDEFxz'), (key, bytes, at, char) => {
        const signature = signSandboxCallback(key, bytes);
        const index = at % signature.length;
        fc.pre(signature[index] !== char);
        const tampered = `${signature.slice(0, index)}${char}${signature.slice(index + 1)}`;
        expect(verifySandboxCallback(key, bytes, tampered)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a merchant signature once any single byte of the signed body changes', () => {
    fc.assert(
      fc.property(secret, body, fc.nat(), fc.integer({ min: 1, max: 255 }), (key, bytes, at, flip) => {
        const request = { ...MERCHANT_REQUEST, body: bytes };
        const signature = signMerchantRequest(key, request);
        const tampered = Uint8Array.from(bytes);
        const index = at % tampered.length;
        tampered[index] = (tampered[index] ?? 0) ^ flip;
        expect(hexEquals(signMerchantRequest(key, request), signature)).toBe(true);
        expect(hexEquals(signMerchantRequest(key, { ...request, body: tampered }), signature)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
