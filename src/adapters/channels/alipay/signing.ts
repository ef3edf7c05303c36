import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

/**
 * Alipay open-platform RSA2 (SHA256withRSA, PKCS#1 v1.5, base64) signing and verification, as the official SDKs do
 * it. Three canonical strings exist and must not be mixed up:
 *
 * - request: every non-empty parameter except `sign` (so `sign_type` IS signed), sorted by key, `k=v&…`, raw values;
 * - async notification: every non-empty parameter except `sign` and `sign_type`, sorted, `k=v&…` with the
 *   form-decoded (URL-decoded) values;
 * - sync response: the exact raw JSON text of the `<method>_response` member, as it stands in the body.
 */

/** Request or notification parameters; `undefined` and `''` values are left out of what is signed. */
export type AlipayParams = Readonly<Record<string, string | undefined>>;

function canonical(params: AlipayParams, excluded: readonly string[]): string {
  return Object.keys(params)
    .filter((key) => !excluded.includes(key) && params[key] !== undefined && params[key] !== '')
    .sort()
    .map((key) => `${key}=${params[key]}`)
    .join('&');
}

/** The string a request's `sign` covers: non-empty parameters but `sign`, sorted by key (ASCII), values not encoded. */
export function requestSignContent(params: AlipayParams): string {
  return canonical(params, ['sign']);
}

/** The string an async notification's `sign` covers: non-empty parameters but `sign` and `sign_type`, decoded values. */
export function notificationSignContent(params: AlipayParams): string {
  return canonical(params, ['sign', 'sign_type']);
}

/** Base64 SHA256withRSA signature of `content` (UTF-8). */
export function rsa2Sign(content: string, privateKey: KeyObject): string {
  return sign('sha256', Buffer.from(content, 'utf8'), privateKey).toString('base64');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Whether `signature` (base64) is Alipay's SHA256withRSA signature of `content`; false, never a throw, on junk. */
export function rsa2Verify(content: string, signature: string | undefined, publicKey: KeyObject): boolean {
  if (!signature || !BASE64.test(signature)) return false;
  try {
    return verify('sha256', Buffer.from(content, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** Signs request parameters: the `sign` value to add to them. */
export function signRequest(params: AlipayParams, privateKey: KeyObject): string {
  return rsa2Sign(requestSignContent(params), privateKey);
}

/** Verifies a request's `sign` (what Alipay's gateway does; the local Alipay server uses it). */
export function verifyRequest(params: AlipayParams, publicKey: KeyObject): boolean {
  return rsa2Verify(requestSignContent(params), params.sign, publicKey);
}

/** Signs an async notification's decoded parameters: the `sign` value to add (what Alipay does). */
export function signNotification(params: AlipayParams, privateKey: KeyObject): string {
  return rsa2Sign(notificationSignContent(params), privateKey);
}

/** Verifies an async notification's decoded parameters against its own `sign` with Alipay's public key. */
export function verifyNotification(params: AlipayParams, publicKey: KeyObject): boolean {
  return rsa2Verify(notificationSignContent(params), params.sign, publicKey);
}

function derOf(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'base64');
}

/**
 * The app's private key from PEM (PKCS#8 or PKCS#1) or from the bare base64 body Alipay's key tool prints.
 * Errors never carry the key material.
 */
export function loadPrivateKey(pemOrBase64: string): KeyObject {
  const text = pemOrBase64.trim();
  if (text.startsWith('-----BEGIN')) return createPrivateKey(text);
  try {
    return createPrivateKey({ key: derOf(text), format: 'der', type: 'pkcs8' });
  } catch {
    return createPrivateKey({ key: derOf(text), format: 'der', type: 'pkcs1' });
  }
}

/** A public key (Alipay's, or the app's on the local server) from PEM or from a bare base64 SPKI body. */
export function loadPublicKey(pemOrBase64: string): KeyObject {
  const text = pemOrBase64.trim();
  if (text.startsWith('-----BEGIN')) return createPublicKey(text);
  return createPublicKey({ key: derOf(text), format: 'der', type: 'spki' });
}
