import type { SecretCipher } from '#app/ports.ts';
import type { GatewayConfig } from '#shared/config.ts';
import {
  CachingSecretCipher,
  KmsSecretCipher,
  LocalSecretCipher,
  UnavailableSecretCipher,
} from '../crypto/secret-cipher.ts';

/** The merchant-secret cipher (KMS on AWS): authenticated routes and whatever signs notifications need it. */
export function cipherParts(config: GatewayConfig) {
  return { cipher: new CachingSecretCipher(secretCipherFor(config)) as SecretCipher };
}

function secretCipherFor(config: GatewayConfig): SecretCipher {
  const source = config.secretCipher;
  if (source.kind === 'kms') return new KmsSecretCipher(source.keyId);
  if (source.kind === 'local') return new LocalSecretCipher(source.masterKey);
  return new UnavailableSecretCipher();
}
