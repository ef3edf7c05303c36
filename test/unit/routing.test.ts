import { describe, expect, it } from 'vitest';
import type { PaymentChannel } from '#app/ports.ts';
import { namedChannel } from '#app/routing.ts';
import type { Channel, PayMethod } from '#domain/payment.ts';
import { ValidationError } from '#shared/errors.ts';
import { expectCode } from './expect-error.ts';

/** A channel that only answers `supports`; namedChannel never calls anything else. */
function channel(code: Channel, methods: PayMethod[], currencies: string[]): PaymentChannel {
  return {
    code,
    supports: (method, currency) => methods.includes(method) && currencies.includes(currency),
    createPayment: () => Promise.reject(new Error('not used by namedChannel')),
    queryPayment: () => Promise.reject(new Error('not used by namedChannel')),
    closePayment: () => Promise.reject(new Error('not used by namedChannel')),
    refund: () => Promise.reject(new Error('not used by namedChannel')),
    queryRefund: () => Promise.reject(new Error('not used by namedChannel')),
    verifyAndParseCallback: () => Promise.reject(new Error('not used by namedChannel')),
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

describe('namedChannel', () => {
  it('returns the named channel when it supports the payment', () => {
    expect(namedChannel(channels, { channel: 'ALIPAY', method: 'WAP', currency: 'CNY' })).toBe(alipay);
  });

  it('defaults the method to QR, and to BALANCE for the balance channel', () => {
    expect(namedChannel(channels, { channel: 'ALIPAY', currency: 'CNY' })).toBe(alipay);
    expect(namedChannel(channels, { channel: 'BALANCE', method: null, currency: 'CNY' })).toBe(balance);
    expectCode(
      () => namedChannel(channels, { channel: 'BALANCE', method: 'QR', currency: 'CNY' }),
      ValidationError,
      'CHANNEL_NOT_SUPPORTED',
    );
  });

  it('rejects a named channel that is not enabled with CHANNEL_NOT_SUPPORTED', () => {
    const error = expectCode(
      () => namedChannel(channels, { channel: 'WECHAT_PAY', method: 'QR', currency: 'CNY' }),
      ValidationError,
      'CHANNEL_NOT_SUPPORTED',
    );
    expect(error.httpStatus).toBe(400);
    expect(error.details).toEqual({ channel: 'WECHAT_PAY' });
  });

  it('rejects a named channel that does not support the method with CHANNEL_NOT_SUPPORTED', () => {
    const error = expectCode(
      () => namedChannel(channels, { channel: 'ALIPAY', method: 'PAGE', currency: 'CNY' }),
      ValidationError,
      'CHANNEL_NOT_SUPPORTED',
    );
    expect(error.details).toEqual({ channel: 'ALIPAY', method: 'PAGE', currency: 'CNY' });
  });

  it('rejects a named channel that does not support the currency with CHANNEL_NOT_SUPPORTED', () => {
    expectCode(
      () => namedChannel(channels, { channel: 'ALIPAY', method: 'QR', currency: 'USD' }),
      ValidationError,
      'CHANNEL_NOT_SUPPORTED',
    );
  });
});
