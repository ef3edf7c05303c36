import { describe, expect, it } from 'vitest';
import type { PaymentChannel } from '#app/ports.ts';
import { pickChannel } from '#app/routing.ts';
import type { Channel, PayMethod } from '#domain/payment.ts';
import { UnavailableError, ValidationError } from '#shared/errors.ts';
import { expectCode } from './expect-error.ts';

/** A channel that only answers `supports`; pickChannel never calls anything else. */
function channel(code: Channel, methods: PayMethod[], currencies: string[]): PaymentChannel {
  return {
    code,
    supports: (method, currency) => methods.includes(method) && currencies.includes(currency),
    createPayment: () => Promise.reject(new Error('not used by pickChannel')),
    queryPayment: () => Promise.reject(new Error('not used by pickChannel')),
    closePayment: () => Promise.reject(new Error('not used by pickChannel')),
    refund: () => Promise.reject(new Error('not used by pickChannel')),
    queryRefund: () => Promise.reject(new Error('not used by pickChannel')),
    verifyAndParseCallback: () => Promise.reject(new Error('not used by pickChannel')),
  };
}

const sandbox = channel('SANDBOX', ['QR', 'PAGE'], ['CNY', 'USD']);
const alipay = channel('ALIPAY', ['QR', 'WAP'], ['CNY']);
const balance = channel('BALANCE', ['BALANCE'], ['CNY', 'JPY']);

const channels = new Map<Channel, PaymentChannel>([
  ['SANDBOX', sandbox],
  ['ALIPAY', alipay],
  ['BALANCE', balance],
]);

describe('pickChannel', () => {
  it('returns the named channel when it supports the payment', () => {
    expect(pickChannel(channels, { channel: 'ALIPAY', method: 'WAP', currency: 'CNY' })).toBe(alipay);
  });

  it('defaults the method to QR, and to BALANCE for the balance channel', () => {
    expect(pickChannel(channels, { channel: 'ALIPAY', currency: 'CNY' })).toBe(alipay);
    expect(pickChannel(channels, { channel: 'BALANCE', method: null, currency: 'CNY' })).toBe(balance);
    expectCode(
      () => pickChannel(channels, { channel: 'BALANCE', method: 'QR', currency: 'CNY' }),
      ValidationError,
      'CHANNEL_NOT_SUPPORTED',
    );
  });

  it('rejects a named channel that is not enabled with CHANNEL_NOT_SUPPORTED', () => {
    const error = expectCode(
      () => pickChannel(channels, { channel: 'WECHAT_PAY', method: 'QR', currency: 'CNY' }),
      ValidationError,
      'CHANNEL_NOT_SUPPORTED',
    );
    expect(error.httpStatus).toBe(400);
    expect(error.details).toEqual({ channel: 'WECHAT_PAY' });
  });

  it('rejects a named channel that does not support the method with CHANNEL_NOT_SUPPORTED', () => {
    const error = expectCode(
      () => pickChannel(channels, { channel: 'ALIPAY', method: 'PAGE', currency: 'CNY' }),
      ValidationError,
      'CHANNEL_NOT_SUPPORTED',
    );
    expect(error.details).toEqual({ channel: 'ALIPAY', method: 'PAGE', currency: 'CNY' });
  });

  it('rejects a named channel that does not support the currency with CHANNEL_NOT_SUPPORTED', () => {
    expectCode(
      () => pickChannel(channels, { channel: 'ALIPAY', method: 'QR', currency: 'USD' }),
      ValidationError,
      'CHANNEL_NOT_SUPPORTED',
    );
  });

  it('picks the first enabled channel that supports the payment when none is named', () => {
    expect(pickChannel(channels, { method: 'QR', currency: 'CNY' })).toBe(sandbox);
    expect(pickChannel(channels, { channel: null, method: 'WAP', currency: 'CNY' })).toBe(alipay);
    expect(pickChannel(channels, { method: 'BALANCE', currency: 'JPY' })).toBe(balance);
    expect(pickChannel(channels, { currency: 'USD' })).toBe(sandbox);
  });

  it('answers 503 NO_CHANNEL_AVAILABLE when no channel supports the payment', () => {
    const error = expectCode(
      () => pickChannel(channels, { method: 'JSAPI', currency: 'CNY' }),
      UnavailableError,
      'NO_CHANNEL_AVAILABLE',
    );
    expect(error.httpStatus).toBe(503);
  });

  it('answers NO_CHANNEL_AVAILABLE when no channel is enabled', () => {
    expectCode(() => pickChannel(new Map(), { currency: 'CNY' }), UnavailableError, 'NO_CHANNEL_AVAILABLE');
  });
});
