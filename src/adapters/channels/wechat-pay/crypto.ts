import { createCipheriv, createDecipheriv } from 'node:crypto';

/** The only resource encryption WeChat Pay API v3 uses. */
export const RESOURCE_ALGORITHM = 'AEAD_AES_256_GCM';
const TAG_BYTES = 16;

/** An encrypted callback `resource` as it appears on the wire. */
export interface EncryptedResource {
  algorithm: string;
  /** Base64 of the ciphertext with the 16-byte GCM tag appended. */
  ciphertext: string;
  /** Additional authenticated data (e.g. `transaction`); may be empty. */
  associated_data?: string;
  /** The 12-character GCM nonce, used as UTF-8 bytes. */
  nonce: string;
}

/** Raised when a resource cannot be decrypted: wrong key, tampered ciphertext, tag or associated data. */
export class ResourceDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceDecryptionError';
  }
}

function keyBytes(apiV3Key: string): Buffer {
  const key = Buffer.from(apiV3Key, 'utf8');
  if (key.length !== 32) throw new Error('the WeChat Pay API v3 key must be 32 bytes');
  return key;
}

/**
 * Decrypts an AEAD_AES_256_GCM resource with the API v3 key and returns its UTF-8 plaintext. Throws
 * {@link ResourceDecryptionError} when authentication fails; the plaintext is never logged by this module.
 */
export function decryptResource(resource: EncryptedResource, apiV3Key: string): string {
  if (resource.algorithm !== RESOURCE_ALGORITHM) {
    throw new ResourceDecryptionError(`unsupported resource algorithm ${resource.algorithm}`);
  }
  const sealed = Buffer.from(resource.ciphertext, 'base64');
  if (sealed.length < TAG_BYTES) throw new ResourceDecryptionError('ciphertext shorter than the GCM tag');
  const key = keyBytes(apiV3Key);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(resource.nonce, 'utf8'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(resource.associated_data ?? '', 'utf8'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new ResourceDecryptionError('resource does not authenticate');
  }
}

/** Encrypts a resource as WeChat Pay does (for the local WeChat Pay server and tests). */
export function encryptResource(
  plaintext: string,
  apiV3Key: string,
  nonce: string,
  associatedData: string,
): EncryptedResource {
  const cipher = createCipheriv('aes-256-gcm', keyBytes(apiV3Key), Buffer.from(nonce, 'utf8'), {
    authTagLength: TAG_BYTES,
  });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return {
    algorithm: RESOURCE_ALGORITHM,
    ciphertext: sealed.toString('base64'),
    associated_data: associatedData,
    nonce,
  };
}
