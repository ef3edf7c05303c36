import { describe, expect, it } from 'vitest';
import { activeSecretCiphertexts, type Merchant } from '#domain/merchant.ts';

const NOW = new Date('2026-11-22T10:00:00.000Z');

function merchant(overrides: Partial<Merchant> = {}): Merchant {
  return {
    id: 'mch_1',
    name: 'Shop',
    status: 'ACTIVE',
    secretCiphertext: 'current',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('activeSecretCiphertexts', () => {
  it('returns only the current secret when none was rotated', () => {
    expect(activeSecretCiphertexts(merchant(), NOW)).toEqual(['current']);
  });

  it('returns the current secret first, then the previous one before it expires', () => {
    const rotated = merchant({
      previousSecretCiphertext: 'previous',
      previousSecretExpiresAt: '2026-11-22T10:00:00.001Z',
    });
    expect(activeSecretCiphertexts(rotated, NOW)).toEqual(['current', 'previous']);
  });

  it('drops the previous secret at its expiry instant', () => {
    const rotated = merchant({ previousSecretCiphertext: 'previous', previousSecretExpiresAt: NOW.toISOString() });
    expect(activeSecretCiphertexts(rotated, NOW)).toEqual(['current']);
  });

  it('drops the previous secret after its expiry', () => {
    const rotated = merchant({
      previousSecretCiphertext: 'previous',
      previousSecretExpiresAt: '2026-11-22T09:59:59.999Z',
    });
    expect(activeSecretCiphertexts(rotated, NOW)).toEqual(['current']);
  });

  it('ignores a previous secret without an expiry', () => {
    expect(activeSecretCiphertexts(merchant({ previousSecretCiphertext: 'previous' }), NOW)).toEqual(['current']);
  });

  it('ignores a previous secret whose expiry is not a date', () => {
    const rotated = merchant({ previousSecretCiphertext: 'previous', previousSecretExpiresAt: 'tomorrow' });
    expect(activeSecretCiphertexts(rotated, NOW)).toEqual(['current']);
  });
});
