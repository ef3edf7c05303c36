import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import type { SecretCipher } from '#app/ports.ts';

/**
 * Merchant secrets under AWS KMS. The encryption context (the merchant id) binds a ciphertext to its merchant, so a
 * ciphertext copied onto another merchant's item does not decrypt.
 */
export class KmsSecretCipher implements SecretCipher {
  constructor(
    private readonly keyId: string,
    private readonly kms = new KMSClient({}),
  ) {}

  async encrypt(plaintext: string, context: Record<string, string>): Promise<string> {
    const out = await this.kms.send(
      new EncryptCommand({ KeyId: this.keyId, Plaintext: Buffer.from(plaintext, 'utf8'), EncryptionContext: context }),
    );
    return `kms:${Buffer.from(out.CiphertextBlob ?? new Uint8Array()).toString('base64')}`;
  }

  async decrypt(ciphertext: string, context: Record<string, string>): Promise<string> {
    const blob = Buffer.from(stripScheme(ciphertext, 'kms'), 'base64');
    // Pinning KeyId means a ciphertext made under any other key is refused, never decrypted with it.
    const out = await this.kms.send(
      new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: blob, EncryptionContext: context }),
    );
    return Buffer.from(out.Plaintext ?? new Uint8Array()).toString('utf8');
  }
}

/**
 * Merchant secrets under AES-256-GCM with a 32-byte key kept outside the table (`.local/master.key` on one machine).
 * The context is the GCM associated data, with the same binding as the KMS encryption context.
 */
export class LocalSecretCipher implements SecretCipher {
  private readonly key: Buffer;

  constructor(keyBase64: string) {
    this.key = Buffer.from(keyBase64, 'base64');
    if (this.key.length !== 32) throw new Error('the local master key must be 32 bytes (base64)');
  }

  async encrypt(plaintext: string, context: Record<string, string>): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(aad(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `local:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  async decrypt(ciphertext: string, context: Record<string, string>): Promise<string> {
    const raw = Buffer.from(stripScheme(ciphertext, 'local'), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAAD(aad(context));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

/** The cipher of a function that was granted no merchant key: any use is a deployment error. */
export class UnavailableSecretCipher implements SecretCipher {
  encrypt(): Promise<string> {
    return Promise.reject(new Error('this function has no merchant key (MERCHANT_KEY_ID / LOCAL_MASTER_KEY)'));
  }

  decrypt(): Promise<string> {
    return this.encrypt();
  }
}

/** Caches decrypted secrets for a few minutes per container, so authentication costs no KMS call per request. */
export class CachingSecretCipher implements SecretCipher {
  private readonly cache = new Map<string, { plaintext: string; until: number }>();

  constructor(
    private readonly inner: SecretCipher,
    private readonly ttlMs = 5 * 60 * 1000,
    private readonly maxEntries = 1000,
  ) {}

  encrypt(plaintext: string, context: Record<string, string>): Promise<string> {
    return this.inner.encrypt(plaintext, context);
  }

  async decrypt(ciphertext: string, context: Record<string, string>): Promise<string> {
    const cacheKey = `${JSON.stringify(context)}|${ciphertext}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.until > Date.now()) return hit.plaintext;
    const plaintext = await this.inner.decrypt(ciphertext, context);
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(cacheKey, { plaintext, until: Date.now() + this.ttlMs });
    return plaintext;
  }
}

function stripScheme(ciphertext: string, scheme: string): string {
  if (!ciphertext.startsWith(`${scheme}:`)) throw new Error(`ciphertext is not a ${scheme} ciphertext`);
  return ciphertext.slice(scheme.length + 1);
}

function aad(context: Record<string, string>): Buffer {
  const sorted = Object.keys(context)
    .sort()
    .map((name) => [name, context[name]]);
  return Buffer.from(JSON.stringify(sorted), 'utf8');
}
