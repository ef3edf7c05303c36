import type { MerchantRepository, NonceStore, SecretCipher } from '#app/ports.ts';
import { activeSecretCiphertexts, type Merchant } from '#domain/merchant.ts';
import { hexEquals, signMerchantRequest } from '#domain/signing.ts';
import { AuthError, ForbiddenError } from '#shared/errors.ts';

export interface AuthenticateDeps {
  merchants: MerchantRepository;
  nonces: NonceStore;
  cipher: SecretCipher;
  clock: () => Date;
}

/** A merchant request as it arrived: its auth headers and exactly the bytes that were signed. */
export interface IncomingRequest {
  method: string;
  pathAndQuery: string;
  headers: Record<string, string | undefined>;
  /** The raw body bytes as sent (a string stands for its UTF-8 encoding; never a decoded text of other bytes). */
  body: Uint8Array | string;
}

export const TIMESTAMP_WINDOW_SECONDS = 300;
export const NONCE_TTL_SECONDS = 600;
const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
const TIMESTAMP_PATTERN = /^[0-9]{1,12}$/;

/**
 * Authenticates a merchant request exactly as API.md says.
 *
 * 1. All four headers present and well-formed (`401 AUTH_MISSING`).
 * 2. Timestamp within ±300 s of server time, in whole seconds (`401 AUTH_TIMESTAMP_SKEW`).
 * 3. Merchant known (`401 AUTH_UNKNOWN_MERCHANT`); signature matches its current or still-valid previous secret,
 *    compared in constant time (`401 AUTH_INVALID_SIGNATURE`).
 * 4. Merchant enabled (`403 MERCHANT_DISABLED`) — checked after the signature so it reveals nothing to strangers.
 * 5. Nonce unused within 10 min (`401 AUTH_NONCE_REPLAYED`) — claimed only for a valid signature, so nobody can
 *    burn a merchant's nonces.
 */
export async function authenticate(deps: AuthenticateDeps, request: IncomingRequest): Promise<Merchant> {
  const merchantId = request.headers['x-merchant-id'];
  const timestamp = request.headers['x-timestamp'];
  const nonce = request.headers['x-nonce'];
  const signature = request.headers['x-signature'];
  if (!merchantId || !timestamp || !nonce || !signature) {
    throw new AuthError('AUTH_MISSING', 'X-Merchant-Id, X-Timestamp, X-Nonce and X-Signature are required');
  }
  if (!TIMESTAMP_PATTERN.test(timestamp) || !NONCE_PATTERN.test(nonce) || merchantId.length > 64) {
    throw new AuthError('AUTH_MISSING', 'X-Timestamp must be Unix seconds and X-Nonce 16-64 of [A-Za-z0-9_-]');
  }
  const now = deps.clock();
  // Whole seconds on both sides, the unit of X-Timestamp: the window is then exactly ±300 s, the same either way.
  if (Math.abs(Math.floor(now.getTime() / 1000) - Number(timestamp)) > TIMESTAMP_WINDOW_SECONDS) {
    throw new AuthError(
      'AUTH_TIMESTAMP_SKEW',
      `X-Timestamp is more than ${TIMESTAMP_WINDOW_SECONDS} s from server time`,
    );
  }
  const merchant = await deps.merchants.get(merchantId);
  if (!merchant) throw new AuthError('AUTH_UNKNOWN_MERCHANT', 'unknown merchant');

  const signed = { method: request.method, pathAndQuery: request.pathAndQuery, timestamp, nonce, body: request.body };
  let valid = false;
  for (const ciphertext of activeSecretCiphertexts(merchant, now)) {
    const secret = await deps.cipher.decrypt(ciphertext, { merchant_id: merchant.id });
    // Evaluate every candidate (no early exit) so timing does not tell which secret matched.
    valid = hexEquals(signMerchantRequest(secret, signed), signature) || valid;
  }
  if (!valid) throw new AuthError('AUTH_INVALID_SIGNATURE', 'signature does not match');
  if (merchant.status !== 'ACTIVE') throw new ForbiddenError('MERCHANT_DISABLED', 'merchant is disabled');

  const expiresAt = new Date(now.getTime() + NONCE_TTL_SECONDS * 1000);
  if (!(await deps.nonces.claim(merchant.id, nonce, expiresAt, now))) {
    throw new AuthError('AUTH_NONCE_REPLAYED', 'this nonce was already used');
  }
  return merchant;
}
