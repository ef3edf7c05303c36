// Over 250 lines: byte-for-byte comparisons with the official alipay-sdk for every signed message kind.
import { generateKeyPairSync } from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { alipayJson, rawMember } from '#adapters/channels/alipay/response-text.ts';
import {
  loadPrivateKey,
  loadPublicKey,
  notificationSignContent,
  requestSignContent,
  rsa2Sign,
  rsa2Verify,
  signNotification,
  signRequest,
  verifyNotification,
  verifyRequest,
} from '#adapters/channels/alipay/signing.ts';
import { fromShanghaiTime, mapTradeStatus, parseForm, toShanghaiTime } from '#adapters/channels/alipay/transformers.ts';
import { logger } from '#shared/observability.ts';

const pair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const app = pair();
const alipay = pair();
const other = pair();
const pem = {
  appPrivate: app.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  alipayPublic: alipay.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};

const REQUEST = {
  app_id: '2021000000000001',
  method: 'alipay.trade.precreate',
  format: 'JSON',
  charset: 'utf-8',
  sign_type: 'RSA2',
  timestamp: '2026-11-22 18:00:00',
  version: '1.0',
  notify_url: 'https://pay.example/v1/callbacks/alipay?x=1&y=2',
  biz_content: '{"out_trade_no":"pay_1","total_amount":"100.00","subject":"充值 & top-up"}',
};

describe('request signing (RSA2)', () => {
  it('signs every non-empty parameter but sign, sorted by key, with raw (not URL-encoded) values', () => {
    const content = requestSignContent({ ...REQUEST, sign: 'old', empty: '', absent: undefined });
    expect(content).toBe(
      'app_id=2021000000000001&biz_content={"out_trade_no":"pay_1","total_amount":"100.00","subject":"充值 & top-up"}' +
        '&charset=utf-8&format=JSON&method=alipay.trade.precreate&notify_url=https://pay.example/v1/callbacks/alipay?x=1&y=2' +
        '&sign_type=RSA2&timestamp=2026-11-22 18:00:00&version=1.0',
    );
  });

  it('verifies its own signature and rejects tampered, extended, shortened or foreign-key requests', () => {
    const signed = { ...REQUEST, sign: signRequest(REQUEST, app.privateKey) };
    expect(verifyRequest(signed, app.publicKey)).toBe(true);
    const { notify_url: _removed, ...shortened } = signed;
    const tampered = [
      { ...signed, biz_content: signed.biz_content.replace('100.00', '1.00') },
      { ...signed, return_url: 'https://evil.example' },
      shortened,
      { ...signed, sign_type: 'RSA' },
      { ...REQUEST, sign: signRequest(REQUEST, other.privateKey) },
      { ...signed, sign: 'not base64!' },
    ];
    for (const params of tampered) expect(verifyRequest(params, app.publicKey)).toBe(false);
  });

  it('round-trips any parameters (property)', () => {
    const params = fc.dictionary(fc.stringMatching(/^[a-z_]{1,12}$/), fc.string({ unit: 'grapheme', maxLength: 20 }));
    fc.assert(
      fc.property(params, (values) => {
        const signature = signRequest(values, app.privateKey);
        return rsa2Verify(requestSignContent(values), signature, app.publicKey);
      }),
      { numRuns: 25 },
    );
  });

  it('loads PKCS#8, PKCS#1 and bare base64 keys alike', () => {
    const pkcs1 = app.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const bare = app.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
    const barePublic = alipay.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    for (const key of [pem.appPrivate, pkcs1, bare]) {
      expect(verifyRequest({ ...REQUEST, sign: signRequest(REQUEST, loadPrivateKey(key)) }, app.publicKey)).toBe(true);
    }
    expect(loadPublicKey(barePublic).equals(loadPublicKey(pem.alipayPublic))).toBe(true);
  });
});

describe('async notification verification', () => {
  const NOTIFICATION = {
    notify_time: '2026-11-22 18:01:02',
    notify_type: 'trade_status_sync',
    app_id: REQUEST.app_id,
    trade_no: '2026112222001400000000000001',
    out_trade_no: 'pay_1',
    trade_status: 'TRADE_SUCCESS',
    total_amount: '100.00',
    subject: '充值 100% & more+',
    fund_bill_list: '[{"amount":"100.00","fundChannel":"ALIPAYACCOUNT"}]',
    gmt_payment: '2026-11-22 18:01:00',
    charset: 'utf-8',
  };
  const signed = { ...NOTIFICATION, sign_type: 'RSA2', sign: signNotification(NOTIFICATION, alipay.privateKey) };

  it('verifies the URL-decoded values of a form-encoded body', () => {
    const body = new URLSearchParams(signed).toString();
    expect(body).toContain('subject=%E5%85%85%E5%80%BC+100%25+%26+more%2B');
    const form = parseForm(body);
    expect(form).toEqual(signed);
    expect(verifyNotification(form ?? {}, alipay.publicKey)).toBe(true);
  });

  it('leaves sign, sign_type and empty values out of what is signed', () => {
    expect(notificationSignContent({ ...signed, passback_params: '' })).toBe(notificationSignContent(NOTIFICATION));
    expect(notificationSignContent(signed)).not.toContain('sign');
    expect(verifyNotification({ ...signed, sign_type: 'RSA', voucher_detail_list: '' }, alipay.publicKey)).toBe(true);
  });

  it('rejects a changed amount, an added or removed field, a foreign key and undecoded values', () => {
    const { gmt_payment: _removed, ...shortened } = signed;
    const forged = [
      { ...signed, total_amount: '0.01' },
      { ...signed, refund_fee: '100.00' },
      shortened,
      { ...NOTIFICATION, sign: signNotification(NOTIFICATION, other.privateKey) },
      { ...signed, subject: encodeURIComponent(signed.subject) },
    ];
    for (const params of forged) expect(verifyNotification(params, alipay.publicKey)).toBe(false);
  });

  it('treats a form with a repeated key as unparseable', () => {
    expect(parseForm('a=1&b=2&a=3')).toBeUndefined();
  });
});

describe('response verification over the raw response text', () => {
  // Alipay escapes "/" as "\/" and writes non-ASCII raw; JSON.stringify(JSON.parse(member)) would differ.
  const member = '{"code":"10000","msg":"Success","qr_code":"https:\\/\\/qr.alipay.com\\/bax0","sub_msg":"交易 {x}"}';
  const body = `{"sign":"${rsa2Sign(member, alipay.privateKey)}", "alipay_trade_precreate_response" : ${member} }`;

  it('extracts the exact member text and verifies it, while a re-serialization does not verify', () => {
    const signature = (JSON.parse(body) as { sign: string }).sign;
    const raw = rawMember(body, 'alipay_trade_precreate_response') ?? '';
    expect(raw).toBe(member);
    expect(rsa2Verify(raw, signature, alipay.publicKey)).toBe(true);
    const reserialized = JSON.stringify(JSON.parse(raw));
    expect(reserialized).not.toBe(raw);
    expect(rsa2Verify(reserialized, signature, alipay.publicKey)).toBe(false);
  });

  it('finds members after nested values and strings holding braces, quotes and commas', () => {
    const text = '{"a":{"b":[1,{"c":"}\\","}]},"n":-1.5e3,"k":"v","t":true}';
    expect(rawMember(text, 'a')).toBe('{"b":[1,{"c":"}\\","}]}');
    expect(rawMember(text, 'n')).toBe('-1.5e3');
    expect(rawMember(text, 'k')).toBe('"v"');
    expect(rawMember(text, 't')).toBe('true');
    expect(rawMember(text, 'missing')).toBeUndefined();
  });

  it('serializes like Alipay: slashes escaped, parses back to the same value', () => {
    const value = { url: 'https://a/b', text: '支付宝' };
    expect(alipayJson(value)).toBe('{"url":"https:\\/\\/a\\/b","text":"支付宝"}');
    expect(JSON.parse(alipayJson(value))).toEqual(value);
  });
});

describe('trade_status mapping', () => {
  it.each([
    ['WAIT_BUYER_PAY', undefined],
    ['TRADE_SUCCESS', 'SUCCEEDED'],
    ['TRADE_FINISHED', 'SUCCEEDED'],
    ['TRADE_CLOSED', 'FAILED'],
  ])('maps %s to %s', (status, expected) => {
    expect(mapTradeStatus(status)).toBe(expected);
  });

  it('treats an unknown status as not final and logs it', () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    expect(mapTradeStatus('TRADE_PENDING_SOMETHING')).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('unknown'), { trade_status: 'TRADE_PENDING_SOMETHING' });
    warn.mockRestore();
  });
});

describe('Asia/Shanghai times', () => {
  it('formats and parses yyyy-MM-dd HH:mm:ss at UTC+8', () => {
    expect(toShanghaiTime(new Date('2026-11-22T16:30:05.999Z'))).toBe('2026-11-23 00:30:05');
    expect(fromShanghaiTime('2026-11-23 00:30:05')).toBe('2026-11-22T16:30:05.000Z');
    for (const bad of ['2026-02-30 10:00:00', '2026-11-23T00:30:05', '', undefined]) {
      expect(fromShanghaiTime(bad)).toBeUndefined();
    }
  });
});

describe('byte-for-byte agreement with the official alipay-sdk', () => {
  const sdk = new AlipaySdk({
    appId: REQUEST.app_id,
    privateKey: pem.appPrivate,
    keyType: 'PKCS8',
    alipayPublicKey: pem.alipayPublic,
    gateway: 'https://openapi.alipay.com/gateway.do',
  });
  const bizContent = { out_trade_no: 'pay_1', total_amount: '100.00', subject: '充值 & top-up', body: 'a=b&c' };

  it('produces the same request signature as sdkExecute on the same parameters', () => {
    const query = sdk.sdkExecute('alipay.trade.precreate', { bizContent, notifyUrl: REQUEST.notify_url });
    const { sign, ...params } = Object.fromEntries(new URLSearchParams(query));
    expect(params.biz_content).toBe(JSON.stringify(bizContent));
    expect(signRequest(params, loadPrivateKey(pem.appPrivate))).toBe(sign);
  });

  it('produces the same signature as the page-pay GET URL', () => {
    const url = sdk.pageExecute('alipay.trade.page.pay', 'GET', {
      bizContent: { ...bizContent, product_code: 'FAST_INSTANT_TRADE_PAY' },
      returnUrl: 'https://shop.example/return',
    }) as string;
    const { sign, ...params } = Object.fromEntries(new URL(url).searchParams);
    expect(signRequest(params, loadPrivateKey(pem.appPrivate))).toBe(sign);
  });

  it('agrees on which notifications verify', () => {
    const base = { ...NOTIFICATION_FOR_SDK, sign_type: 'RSA2' };
    const valid = { ...base, sign: signNotification(base, alipay.privateKey) };
    const cases = [valid, { ...valid, total_amount: '0.01' }, { ...valid, extra: 'x' }, { ...valid, sign: 'AAAA' }];
    const verdicts = cases.map((params) => [
      verifyNotification(params, alipay.publicKey),
      sdk.checkNotifySignV2(params),
    ]);
    expect(verdicts).toEqual([
      [true, true],
      [false, false],
      [false, false],
      [false, false],
    ]);
  });

  it('cuts out the same signed response text and accepts its signature', () => {
    const member = alipayJson({ code: '10000', msg: 'Success', out_trade_no: 'pay_1', qr_code: 'https://qr/x' });
    const sign = rsa2Sign(member, alipay.privateKey);
    const body = `{"alipay_trade_precreate_response":${member},"sign":"${sign}"}`;
    expect(rawMember(body, 'alipay_trade_precreate_response')).toBe(
      sdk.getSignStr(body, 'alipay_trade_precreate_response'),
    );
    expect(() => sdk.checkResponseSign(body, 'alipay_trade_precreate_response', sign, '')).not.toThrow();
  });
});

const NOTIFICATION_FOR_SDK = {
  notify_type: 'trade_status_sync',
  app_id: REQUEST.app_id,
  out_trade_no: 'pay_1',
  trade_no: '2026112222001400000000000001',
  trade_status: 'TRADE_SUCCESS',
  total_amount: '100.00',
  subject: '充值 & top-up',
  gmt_payment: '2026-11-22 18:01:00',
};
