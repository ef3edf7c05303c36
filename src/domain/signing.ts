import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Lowercase hex SHA-256 of raw bytes (the empty body hashes the empty string). */
export function sha256Hex(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Lowercase hex HMAC-SHA256. */
export function hmacHex(secret: string, message: Uint8Array | string): string {
  return createHmac('sha256', secret).update(message).digest('hex');
}

const EVEN_LOWER_HEX = /^(?:[0-9a-f]{2})*$/;

/** Constant-time comparison of two hex strings; false (not an exception) on any length or format mismatch. */
export function hexEquals(expected: string, actual: string): boolean {
  if (expected.length !== actual.length || !EVEN_LOWER_HEX.test(expected) || !EVEN_LOWER_HEX.test(actual)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(actual, 'hex'));
}

/** The parts of a merchant request that its signature covers. */
export interface SignedRequest {
  method: string;
  pathAndQuery: string;
  timestamp: string;
  nonce: string;
  body: Uint8Array | string;
}

/**
 * `METHOD \n PATH_AND_QUERY \n X-Timestamp \n X-Nonce \n hex(SHA-256(body))`, exactly as API.md defines it.
 */
export function merchantStringToSign(request: SignedRequest): string {
  return [
    request.method.toUpperCase(),
    request.pathAndQuery,
    request.timestamp,
    request.nonce,
    sha256Hex(request.body),
  ].join('\n');
}

/** The `X-Signature` a merchant sends: hex HMAC-SHA256(merchant secret, string to sign). */
export function signMerchantRequest(secret: string, request: SignedRequest): string {
  return hmacHex(secret, merchantStringToSign(request));
}

/** `X-Signature: t=…,v1=…` of a notification the gateway sends to a merchant. */
export function signNotification(secret: string, unixSeconds: number, body: string): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, `${unixSeconds}.${body}`)}`;
}

/** `X-Sandbox-Signature`: hex HMAC-SHA256(sandbox secret, raw body). */
export function signSandboxCallback(secret: string, body: Uint8Array | string): string {
  return hmacHex(secret, body);
}

/** Verifies a sandbox callback signature in constant time. */
export function verifySandboxCallback(secret: string, body: Uint8Array | string, signature: string): boolean {
  return hexEquals(signSandboxCallback(secret, body), signature);
}
