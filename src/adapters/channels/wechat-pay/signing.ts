import { createPublicKey, type KeyObject, randomBytes, sign, verify, X509Certificate } from 'node:crypto';

/** The `Authorization` scheme of WeChat Pay API v3 (SHA256withRSA, 2048-bit keys). */
export const AUTH_SCHEME = 'WECHATPAY2-SHA256-RSA2048';
/** WeChat Pay sends probe callbacks/answers whose signature starts with this; they must never verify. */
export const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';
/** Maximum accepted clock skew of a `Wechatpay-Timestamp`, in seconds. */
export const MAX_SKEW_SECONDS = 300;

/** The parts of a request the merchant signs. `pathAndQuery` is the URL without scheme and host. */
export interface RequestToSign {
  method: string;
  pathAndQuery: string;
  timestamp: string;
  nonce: string;
  /** The exact body bytes sent; `''` for GET. */
  body: string;
}

/** `METHOD\nPATH_AND_QUERY\ntimestamp\nnonce\nbody\n` — a GET has an empty body line. */
export function requestMessage(request: RequestToSign): string {
  return `${request.method.toUpperCase()}\n${request.pathAndQuery}\n${request.timestamp}\n${request.nonce}\n${request.body}\n`;
}

/** `timestamp\nnonce\nbody\n`, what WeChat Pay signs on answers and callbacks. */
export function responseMessage(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

/** `appId\ntimeStamp\nnonceStr\npackage\n`, what the merchant signs for a JSAPI (in-WeChat) payment. */
export function jsapiPayMessage(appId: string, timeStamp: string, nonceStr: string, pkg: string): string {
  return `${appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`;
}

/** Base64 SHA256withRSA (PKCS#1 v1.5) signature. */
export function rsaSign(privateKey: KeyObject | string, message: string): string {
  return sign('sha256', Buffer.from(message, 'utf8'), privateKey).toString('base64');
}

/** Verifies a base64 SHA256withRSA signature; false (never a throw) on malformed input. */
export function rsaVerify(publicKey: KeyObject, message: string, signatureBase64: string): boolean {
  try {
    return verify('sha256', Buffer.from(message, 'utf8'), publicKey, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

/** A random nonce of 32 upper-case hex characters (WeChat Pay allows at most 32). */
export function newNonce(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/** The fields of an `Authorization: WECHATPAY2-SHA256-RSA2048 …` header. */
export interface AuthorizationParts {
  mchid: string;
  nonce_str: string;
  signature: string;
  timestamp: string;
  serial_no: string;
}

/** Builds the merchant's `Authorization` header for one request. */
export function buildAuthorization(
  merchant: { mchId: string; serialNo: string; privateKey: KeyObject | string },
  request: RequestToSign,
): string {
  const signature = rsaSign(merchant.privateKey, requestMessage(request));
  return (
    `${AUTH_SCHEME} mchid="${merchant.mchId}",nonce_str="${request.nonce}",signature="${signature}",` +
    `timestamp="${request.timestamp}",serial_no="${merchant.serialNo}"`
  );
}

const AUTH_FIELD = /([a-z_]+)="([^"]*)"/g;

/** Parses an `Authorization` header; `undefined` if the scheme or any field is missing. */
export function parseAuthorization(header: string | undefined): AuthorizationParts | undefined {
  if (!header?.startsWith(`${AUTH_SCHEME} `)) return undefined;
  const fields = new Map<string, string>();
  for (const [, key, value] of header.slice(AUTH_SCHEME.length + 1).matchAll(AUTH_FIELD)) {
    if (key !== undefined && value !== undefined) fields.set(key, value);
  }
  const parts = {
    mchid: fields.get('mchid'),
    nonce_str: fields.get('nonce_str'),
    signature: fields.get('signature'),
    timestamp: fields.get('timestamp'),
    serial_no: fields.get('serial_no'),
  };
  return Object.values(parts).every((value) => value) ? (parts as AuthorizationParts) : undefined;
}

/**
 * WeChat Pay's verification keys by `Wechatpay-Serial`: platform certificates (their public key, usable only within
 * their validity) and/or the WeChat Pay public key (serial `PUB_KEY_ID_…`, a PEM public key). Parsed once.
 */
export class PlatformKeyring {
  private readonly keys = new Map<string, { key: KeyObject; validTo?: number }>();

  /**
   * @param pems serial → PEM certificate or PEM public key; throws on a PEM that is neither
   * @param retired keys a rotation replaced, accepted (unless `pems` has their serial) until `validUntil` (ISO)
   */
  constructor(pems: Record<string, string>, retired?: { keys: Record<string, string>; validUntil: string }) {
    for (const [serial, pem] of Object.entries(pems)) this.keys.set(serial, parsedKey(pem));
    if (!retired) return;
    const until = Date.parse(retired.validUntil) - 1; // valid while now < validUntil, like every retired key
    for (const [serial, pem] of Object.entries(retired.keys)) {
      if (this.keys.has(serial)) continue;
      const parsed = parsedKey(pem);
      this.keys.set(serial, { key: parsed.key, validTo: Math.min(parsed.validTo ?? until, until) });
    }
  }

  /** The key for `serial` at `now`; `undefined` for an unknown serial or an expired certificate. */
  keyFor(serial: string, now: Date): KeyObject | undefined {
    const entry = this.keys.get(serial);
    if (!entry || (entry.validTo !== undefined && entry.validTo < now.getTime())) return undefined;
    return entry.key;
  }
}

/** A certificate's public key and end of validity, or a bare public key. */
function parsedKey(pem: string): { key: KeyObject; validTo?: number } {
  if (!pem.includes('BEGIN CERTIFICATE')) return { key: createPublicKey(pem) };
  const certificate = new X509Certificate(pem);
  return { key: certificate.publicKey, validTo: Date.parse(certificate.validTo) };
}

/** Looks a header up case-insensitively. */
export function headerOf(headers: Record<string, string | undefined>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** The outcome of checking a `Wechatpay-*` signature; `reason` is safe to log (it holds no key material). */
export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * Verifies WeChat Pay's signature on an answer or a callback: `Wechatpay-Signature` over
 * `Wechatpay-Timestamp\nWechatpay-Nonce\nbody\n`, with the key `Wechatpay-Serial` names. Rejects missing headers,
 * `WECHATPAY/SIGNTEST/` probes, unknown serials and timestamps more than {@link MAX_SKEW_SECONDS} from `now`.
 */
export function verifyWechatpaySignature(
  keyring: PlatformKeyring,
  headers: Record<string, string | undefined>,
  body: string,
  now: Date,
): SignatureCheck {
  const timestamp = headerOf(headers, 'wechatpay-timestamp');
  const nonce = headerOf(headers, 'wechatpay-nonce');
  const signature = headerOf(headers, 'wechatpay-signature');
  const serial = headerOf(headers, 'wechatpay-serial');
  if (!timestamp || !nonce || !signature || !serial) return { ok: false, reason: 'Wechatpay-* headers missing' };
  if (signature.startsWith(SIGNTEST_PREFIX)) return { ok: false, reason: 'signature test probe' };
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now.getTime() / 1000 - Number(timestamp)) > MAX_SKEW_SECONDS) {
    return { ok: false, reason: 'Wechatpay-Timestamp outside the accepted window' };
  }
  const key = keyring.keyFor(serial, now);
  if (!key) return { ok: false, reason: `unknown Wechatpay-Serial ${serial}` };
  return rsaVerify(key, responseMessage(timestamp, nonce, body), signature)
    ? { ok: true }
    : { ok: false, reason: 'Wechatpay-Signature does not verify' };
}
