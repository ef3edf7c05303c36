import { createSign, generateKeyPairSync, type KeyObject, sign, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decryptResource, encryptResource, ResourceDecryptionError } from '#adapters/channels/wechat-pay/crypto.ts';
import {
  buildAuthorization,
  jsapiPayMessage,
  PlatformKeyring,
  parseAuthorization,
  requestMessage,
  responseMessage,
  rsaSign,
  rsaVerify,
  verifyWechatpaySignature,
} from '#adapters/channels/wechat-pay/signing.ts';

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const merchant = rsa();
const platform = rsa();
const PUB_KEY_ID = 'PUB_KEY_ID_0114232134912410000000000000';
const CERT_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
const NOW = new Date('2026-11-22T10:00:00.000Z');
const TS = String(NOW.getTime() / 1000);

/** A minimal DER encoder: enough to build a self-signed X.509 v3 certificate without openssl. */
function der(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const size: number[] = [];
  for (let n = body.length; n > 0; n >>= 8) size.unshift(n & 0xff);
  const length = body.length < 0x80 ? [body.length] : [0x80 | size.length, ...size];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

function selfSignedCertificate(key: { publicKey: KeyObject; privateKey: KeyObject }, from: string, to: string): string {
  const seq = (...parts: Buffer[]) => der(0x30, ...parts);
  const sha256WithRsa = seq(der(0x06, Buffer.from('2a864886f70d01010b', 'hex')), Buffer.from([0x05, 0x00]));
  const name = seq(der(0x31, seq(der(0x06, Buffer.from('550403', 'hex')), der(0x0c, Buffer.from('Tenpay test')))));
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, Buffer.from(CERT_SERIAL, 'hex')),
    sha256WithRsa,
    name,
    seq(der(0x17, Buffer.from(from)), der(0x17, Buffer.from(to))),
    name,
    key.publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, key.privateKey);
  const certificate = seq(tbs, sha256WithRsa, der(0x03, Buffer.from([0]), signature));
  return `-----BEGIN CERTIFICATE-----\n${certificate.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
}

/** Headers as WeChat Pay signs an answer or callback, signed independently of the code under test. */
function wechatHeaders(body: string, overrides: Record<string, string> = {}, key = platform.privateKey) {
  const nonce = 'c5ac7061fccab6bf3e254dcf98995b8c';
  const signature = createSign('RSA-SHA256').update(`${TS}\n${nonce}\n${body}\n`).sign(key, 'base64');
  return {
    'wechatpay-timestamp': TS,
    'wechatpay-nonce': nonce,
    'wechatpay-serial': PUB_KEY_ID,
    'wechatpay-signature': signature,
    ...overrides,
  };
}

const publicKeyring = new PlatformKeyring({
  [PUB_KEY_ID]: platform.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
});
const BODY = '{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}';

describe('WeChat Pay v3 request signing', () => {
  const request = {
    method: 'POST',
    pathAndQuery: '/v3/pay/transactions/native',
    timestamp: '1554208460',
    nonce: '593BEC0C930BF1AFEB40B4A08C8FB242',
    body: '{"appid":"wxd678efh567hg6787","mchid":"1230000109"}',
  };

  it('builds the message as method, URL, timestamp, nonce and body, each ended by a newline', () => {
    expect(requestMessage(request)).toBe(
      'POST\n/v3/pay/transactions/native\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{"appid":"wxd678efh567hg6787","mchid":"1230000109"}\n',
    );
    expect(requestMessage({ ...request, method: 'get', pathAndQuery: '/v3/x?mchid=1', body: '' })).toBe(
      'GET\n/v3/x?mchid=1\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n',
    );
  });

  it('signs the Authorization header exactly as SHA256withRSA over the documented message', () => {
    const header = buildAuthorization(
      { mchId: '1230000109', serialNo: 'MCH01', privateKey: merchant.privateKey },
      request,
    );
    const expected = createSign('RSA-SHA256')
      .update(`POST\n/v3/pay/transactions/native\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n${request.body}\n`)
      .sign(merchant.privateKey, 'base64');
    expect(header).toBe(
      `WECHATPAY2-SHA256-RSA2048 mchid="1230000109",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",signature="${expected}",timestamp="1554208460",serial_no="MCH01"`,
    );
  });

  it('parses its own header back and the signature verifies only for the exact request', () => {
    const header = buildAuthorization(
      { mchId: '1230000109', serialNo: 'MCH01', privateKey: merchant.privateKey },
      request,
    );
    const parts = parseAuthorization(header);
    expect(parts).toMatchObject({ mchid: '1230000109', nonce_str: request.nonce, timestamp: request.timestamp });
    const verifies = (changed: Partial<typeof request>) =>
      rsaVerify(merchant.publicKey, requestMessage({ ...request, ...changed }), parts?.signature ?? '');
    expect(verifies({})).toBe(true);
    expect(verifies({ body: request.body.replace('1230000109', '1230000108') })).toBe(false);
    expect(verifies({ pathAndQuery: '/v3/pay/transactions/jsapi' })).toBe(false);
    expect(verifies({ method: 'GET' })).toBe(false);
    expect(verifies({ timestamp: '1554208461' })).toBe(false);
  });

  it('rejects headers of another scheme or with a missing field', () => {
    expect(parseAuthorization('Bearer abc')).toBeUndefined();
    expect(parseAuthorization('WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",timestamp="1",serial_no="s"')).toBe(
      undefined,
    );
  });

  it('signs JSAPI pay parameters over appId, timeStamp, nonceStr and package', () => {
    expect(jsapiPayMessage('wx8888', '1414561699', 'NONCE', 'prepay_id=wx201410')).toBe(
      'wx8888\n1414561699\nNONCE\nprepay_id=wx201410\n',
    );
  });
});

describe('WeChat Pay answer and callback verification', () => {
  const verify = (headers: Record<string, string>, body = BODY, keyring = publicKeyring, now = NOW) =>
    verifyWechatpaySignature(keyring, headers, body, now);

  it('accepts a signature made with the WeChat Pay public key (PUB_KEY_ID mode)', () => {
    expect(responseMessage(TS, 'n', BODY)).toBe(`${TS}\nn\n${BODY}\n`);
    expect(verify(wechatHeaders(BODY))).toEqual({ ok: true });
    expect(verify(wechatHeaders(''), '')).toEqual({ ok: true });
  });

  it('finds headers whatever their case', () => {
    const upper = Object.fromEntries(Object.entries(wechatHeaders(BODY)).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verify(upper)).toEqual({ ok: true });
  });

  it.each([
    ['a tampered body', wechatHeaders(BODY), `${BODY} `, 'Wechatpay-Signature does not verify'],
    ['another signer', wechatHeaders(BODY, {}, merchant.privateKey), BODY, 'Wechatpay-Signature does not verify'],
    [
      'an unknown serial',
      wechatHeaders(BODY, { 'wechatpay-serial': 'PUB_KEY_ID_0000' }),
      BODY,
      'unknown Wechatpay-Serial PUB_KEY_ID_0000',
    ],
    [
      'a signature test probe',
      wechatHeaders(BODY, { 'wechatpay-signature': 'WECHATPAY/SIGNTEST/abc' }),
      BODY,
      'signature test probe',
    ],
    ['a missing nonce', { ...wechatHeaders(BODY), 'wechatpay-nonce': '' }, BODY, 'Wechatpay-* headers missing'],
  ])('rejects %s', (_name, headers, body, reason) => {
    expect(verify(headers, body)).toEqual({ ok: false, reason });
  });

  it('rejects timestamps more than five minutes away, either way', () => {
    const headers = wechatHeaders(BODY);
    expect(verify(headers, BODY, publicKeyring, new Date(NOW.getTime() + 300_000)).ok).toBe(true);
    expect(verify(headers, BODY, publicKeyring, new Date(NOW.getTime() + 301_000))).toEqual({
      ok: false,
      reason: 'Wechatpay-Timestamp outside the accepted window',
    });
    expect(verify(headers, BODY, publicKeyring, new Date(NOW.getTime() - 301_000)).ok).toBe(false);
  });

  it('verifies with a platform certificate chosen by its serial, alongside a public key', () => {
    const pem = selfSignedCertificate(platform, '250101000000Z', '301231235959Z');
    expect(new X509Certificate(pem).serialNumber).toBe(CERT_SERIAL);
    const keyring = new PlatformKeyring({
      [CERT_SERIAL]: pem,
      [PUB_KEY_ID]: platform.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    expect(verify(wechatHeaders(BODY, { 'wechatpay-serial': CERT_SERIAL }), BODY, keyring).ok).toBe(true);
    expect(verify(wechatHeaders(BODY), BODY, keyring).ok).toBe(true);
  });

  it('rejects a platform certificate past its validity', () => {
    const keyring = new PlatformKeyring({
      [CERT_SERIAL]: selfSignedCertificate(platform, '200101000000Z', '241231235959Z'),
    });
    expect(verify(wechatHeaders(BODY, { 'wechatpay-serial': CERT_SERIAL }), BODY, keyring).ok).toBe(false);
  });

  it('round-trips any message through rsaSign and rsaVerify', () => {
    fc.assert(
      fc.property(fc.string(), (message) =>
        rsaVerify(platform.publicKey, message, rsaSign(platform.privateKey, message)),
      ),
      { numRuns: 20 },
    );
  });
});

describe('AEAD_AES_256_GCM callback resources', () => {
  const KEY = '0123456789abcdef0123456789ABCDEF';
  const PLAINTEXT = '{"out_trade_no":"1217752501201407033233368018","trade_state":"SUCCESS"}';
  // Computed with Python's `cryptography` AESGCM(key).encrypt(nonce, plaintext, associated_data): ciphertext || tag.
  const VECTOR = {
    algorithm: 'AEAD_AES_256_GCM',
    nonce: 'a1b2c3d4e5f6',
    associated_data: 'transaction',
    ciphertext:
      'XPrE3HCbX+jubdthC8jCgXAI7yoKb5W5CIgdaYwcnbThVUZkR25V5XytEdZ0ILU0AiWcYR7bGh395bvQk4p9TXn9XXE8sw4vSCbgGcY268FFhib6NZo2',
  };

  it('decrypts and encrypts the known vector', () => {
    expect(decryptResource(VECTOR, KEY)).toBe(PLAINTEXT);
    expect(encryptResource(PLAINTEXT, KEY, VECTOR.nonce, VECTOR.associated_data)).toEqual(VECTOR);
  });

  it('round-trips any plaintext and associated data', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (plaintext, ad) => {
        expect(decryptResource(encryptResource(plaintext, KEY, 'abcdefghijkl', ad), KEY)).toBe(plaintext);
      }),
    );
  });

  it.each([
    ['wrong associated data', { ...VECTOR, associated_data: 'refund' }, KEY],
    ['a flipped tag byte', { ...VECTOR, ciphertext: flipLastByte(VECTOR.ciphertext) }, KEY],
    ['a truncated ciphertext', { ...VECTOR, ciphertext: 'AAAA' }, KEY],
    ['another nonce', { ...VECTOR, nonce: 'a1b2c3d4e5f7' }, KEY],
    ['another key', VECTOR, 'fedcba9876543210fedcba9876543210'],
    ['another algorithm', { ...VECTOR, algorithm: 'AEAD_SM4_GCM' }, KEY],
  ])('rejects %s', (_name, resource, key) => {
    expect(() => decryptResource(resource, key)).toThrow(ResourceDecryptionError);
  });

  it('refuses an API v3 key that is not 32 bytes', () => {
    expect(() => decryptResource(VECTOR, 'short')).toThrow('32 bytes');
  });
});

function flipLastByte(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
  return bytes.toString('base64');
}
