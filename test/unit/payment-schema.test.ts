import { describe, expect, it } from 'vitest';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import { ValidationError } from '#shared/errors.ts';
import { expectCode } from './expect-error.ts';

const cloudSchema = createPaymentSchema({ allowLoopbackHttp: false });
const localSchema = createPaymentSchema({ allowLoopbackHttp: true });

const VALID = { order_no: 'ORD20261122001', amount: '100.00', currency: 'CNY', subject: 'Wallet top-up' };

function parse(body: Record<string, unknown>, schema = cloudSchema) {
  return parseInput(schema, body);
}

function expectRejected(body: Record<string, unknown>, code: string, schema = cloudSchema) {
  const error = expectCode(() => parse(body, schema), ValidationError, code);
  expect(error.httpStatus).toBe(400);
  return error;
}

describe('createPaymentSchema', () => {
  it('parses a valid body and converts the amount to minor units', () => {
    const body = parse({
      ...VALID,
      channel: 'SANDBOX',
      method: 'QR',
      account_id: 'user-42',
      notify_url: 'https://merchant.example/notify',
      return_url: 'https://merchant.example/return',
      expire_in_seconds: 600,
      metadata: { campaign: 'double11' },
    });
    expect(body).toMatchObject({
      order_no: 'ORD20261122001',
      amount: '100.00',
      amountMinor: 10_000,
      exponent: 2,
      currency: 'CNY',
      channel: 'SANDBOX',
      method: 'QR',
      account_id: 'user-42',
      expire_in_seconds: 600,
      metadata: { campaign: 'double11' },
    });
  });

  it('defaults currency to CNY, expiry to 1800 s and metadata to empty', () => {
    const { currency: _currency, ...withoutCurrency } = VALID;
    const body = parse(withoutCurrency);
    expect(body.currency).toBe('CNY');
    expect(body.amountMinor).toBe(10_000);
    expect(body.expire_in_seconds).toBe(1800);
    expect(body.metadata).toEqual({});
  });

  it('converts amounts with the currency exponent', () => {
    expect(parse({ ...VALID, amount: '500', currency: 'JPY' }).amountMinor).toBe(500);
    expect(parse({ ...VALID, amount: '1.234', currency: 'KWD' }).amountMinor).toBe(1234);
  });

  it('accepts null for the optional fields', () => {
    const body = parse({
      ...VALID,
      description: null,
      channel: null,
      method: null,
      account_id: null,
      payer_account_id: null,
      notify_url: null,
      return_url: null,
    });
    expect(body.amountMinor).toBe(10_000);
    expect(body.payer_account_id).toBeUndefined();
    expect(body.channel).toBeUndefined();
  });

  it('treats null for a defaulted field as omitted and applies the default', () => {
    const body = parse({ ...VALID, currency: null, expire_in_seconds: null, metadata: null });
    expect(body.currency).toBe('CNY');
    expect(body.expire_in_seconds).toBe(1800);
    expect(body.metadata).toEqual({});
  });

  it('rejects an unknown field with VALIDATION_FAILED', () => {
    const error = expectRejected({ ...VALID, amout: '1.00' }, 'VALIDATION_FAILED');
    expect(JSON.stringify(error.details)).toContain('amout');
  });

  it('rejects a body that is not an object with VALIDATION_FAILED', () => {
    expectCode(() => parseInput(cloudSchema, null), ValidationError, 'VALIDATION_FAILED');
    expectCode(() => parseInput(cloudSchema, '{}'), ValidationError, 'VALIDATION_FAILED');
    expectCode(() => parseInput(cloudSchema, [VALID]), ValidationError, 'VALIDATION_FAILED');
  });

  it('rejects a JSON number amount with AMOUNT_INVALID', () => {
    const error = expectRejected({ ...VALID, amount: 100 }, 'AMOUNT_INVALID');
    expect(error.message).toMatch(/^amount: /);
  });

  it.each(['1.001', '-1', '0', '1e3', '01.00', ''])('rejects the CNY amount %j with AMOUNT_INVALID', (amount) => {
    expectRejected({ ...VALID, amount }, 'AMOUNT_INVALID');
  });

  it('rejects a missing amount with AMOUNT_INVALID naming the field', () => {
    const { amount: _amount, ...withoutAmount } = VALID;
    const error = expectRejected(withoutAmount, 'AMOUNT_INVALID');
    expect(error.message).toMatch(/^amount: /);
  });

  it('rejects a null amount with AMOUNT_INVALID', () => {
    expectRejected({ ...VALID, amount: null }, 'AMOUNT_INVALID');
  });

  it('rejects a fractional JPY amount with AMOUNT_INVALID', () => {
    expectRejected({ ...VALID, amount: '1.5', currency: 'JPY' }, 'AMOUNT_INVALID');
  });

  it('rejects an unsupported currency with CURRENCY_UNSUPPORTED', () => {
    expectRejected({ ...VALID, currency: 'XXX' }, 'CURRENCY_UNSUPPORTED');
  });

  it.each(['cny', 'CN', 'CNYY', 156])('rejects the malformed currency %j with VALIDATION_FAILED', (currency) => {
    expectRejected({ ...VALID, currency }, 'VALIDATION_FAILED');
  });

  it.each([
    ['empty', ''],
    ['65 characters long', 'A'.repeat(65)],
    ['containing a space', 'ORD 1'],
    ['containing a slash', 'ORD/1'],
    ['a number', 1],
  ])('rejects an order_no %s with VALIDATION_FAILED', (_label, orderNo) => {
    expectRejected({ ...VALID, order_no: orderNo }, 'VALIDATION_FAILED');
  });

  it('accepts an order_no of 64 allowed characters', () => {
    const orderNo = `${'A'.repeat(60)}_-z9`;
    expect(parse({ ...VALID, order_no: orderNo }).order_no).toBe(orderNo);
  });

  it('rejects a plain http notify_url with NOTIFY_URL_INVALID', () => {
    expectRejected({ ...VALID, notify_url: 'http://example.com/notify' }, 'NOTIFY_URL_INVALID');
    expectRejected({ ...VALID, notify_url: 'http://example.com/notify' }, 'NOTIFY_URL_INVALID', localSchema);
  });

  it('accepts an https notify_url', () => {
    expect(parse({ ...VALID, notify_url: 'https://example.com/notify' }).notify_url).toBe('https://example.com/notify');
  });

  it.each([
    'not a url',
    'ftp://example.com/notify',
    'javascript:alert(1)',
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.1/',
    'https://metadata.google.internal/',
  ])('rejects the notify_url %j with NOTIFY_URL_INVALID', (notifyUrl) => {
    expectRejected({ ...VALID, notify_url: notifyUrl }, 'NOTIFY_URL_INVALID', localSchema);
  });

  it.each(['http://127.0.0.1:9000/notify', 'http://localhost:9000/notify', 'http://[::1]:9000/notify'])(
    'accepts the loopback http notify_url %j only when loopback http is allowed',
    (notifyUrl) => {
      expect(parse({ ...VALID, notify_url: notifyUrl }, localSchema).notify_url).toBe(notifyUrl);
      expectRejected({ ...VALID, notify_url: notifyUrl }, 'NOTIFY_URL_INVALID');
    },
  );

  it('is built once per loopback setting and reused, each keeping its own URL rule', () => {
    expect(createPaymentSchema({ allowLoopbackHttp: false })).toBe(cloudSchema);
    expect(createPaymentSchema({ allowLoopbackHttp: true })).toBe(localSchema);
    expect(localSchema).not.toBe(cloudSchema);
    const loopback = { ...VALID, return_url: 'http://127.0.0.1:9000/return' };
    expect(parse(loopback, createPaymentSchema({ allowLoopbackHttp: true })).return_url).toBe(loopback.return_url);
    expectRejected(loopback, 'VALIDATION_FAILED', createPaymentSchema({ allowLoopbackHttp: false }));
  });

  it('applies the same URL rule to return_url', () => {
    expectRejected({ ...VALID, return_url: 'http://example.com/return' }, 'VALIDATION_FAILED');
    expect(parse({ ...VALID, return_url: 'https://example.com/return' }).return_url).toBe('https://example.com/return');
  });

  it.each([59, 86_401, 600.5, '1800'])('rejects expire_in_seconds %j with VALIDATION_FAILED', (seconds) => {
    expectRejected({ ...VALID, expire_in_seconds: seconds }, 'VALIDATION_FAILED');
  });

  it.each([60, 86_400])('accepts expire_in_seconds %d', (seconds) => {
    expect(parse({ ...VALID, expire_in_seconds: seconds }).expire_in_seconds).toBe(seconds);
  });

  it('accepts metadata with 20 pairs and rejects 21 with VALIDATION_FAILED', () => {
    const pairs = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, `v${i}`]));
    expect(Object.keys(parse({ ...VALID, metadata: pairs(20) }).metadata)).toHaveLength(20);
    expectRejected({ ...VALID, metadata: pairs(21) }, 'VALIDATION_FAILED');
  });

  it.each([
    ['a key longer than 40 characters', { ['k'.repeat(41)]: 'v' }],
    ['an empty key', { '': 'v' }],
    ['a value longer than 500 characters', { k: 'v'.repeat(501) }],
    ['a non-string value', { k: 1 }],
  ])('rejects metadata with %s with VALIDATION_FAILED', (_label, metadata) => {
    expectRejected({ ...VALID, metadata }, 'VALIDATION_FAILED');
  });

  it('accepts metadata at the key and value length limits', () => {
    const metadata = { ['k'.repeat(40)]: 'v'.repeat(500) };
    expect(parse({ ...VALID, metadata }).metadata).toEqual(metadata);
  });

  it.each([
    ['empty', ''],
    ['129 characters long', 's'.repeat(129)],
  ])('rejects a subject %s with VALIDATION_FAILED', (_label, subject) => {
    expectRejected({ ...VALID, subject }, 'VALIDATION_FAILED');
  });

  it('accepts a subject of 128 characters', () => {
    expect(parse({ ...VALID, subject: 's'.repeat(128) }).subject).toHaveLength(128);
  });

  it('rejects a missing subject with VALIDATION_FAILED', () => {
    const { subject: _subject, ...withoutSubject } = VALID;
    expectRejected(withoutSubject, 'VALIDATION_FAILED');
  });

  it.each([
    ['channel', 'PAYPAL'],
    ['method', 'CARD'],
    ['account_id', 'has space'],
    ['payer_account_id', 'x'.repeat(65)],
  ])('rejects an invalid %s with VALIDATION_FAILED', (field, value) => {
    expectRejected({ ...VALID, [field]: value }, 'VALIDATION_FAILED');
  });
});
