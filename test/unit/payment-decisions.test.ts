import { describe, expect, it } from 'vitest';
import {
  AmountMismatchError,
  assertClosable,
  type ChannelPaymentResult,
  decideResult,
  type Payment,
  type PaymentStatus,
  visibleStatus,
} from '#domain/payment.ts';
import { ConflictError } from '#shared/errors.ts';
import { expectCode } from './expect-error.ts';

const CREATED_AT = new Date('2026-11-22T10:00:00.000Z');
const EXPIRES_AT = new Date('2026-11-22T10:30:00.000Z');
const BEFORE_EXPIRY = new Date('2026-11-22T10:29:59.999Z');
const AFTER_EXPIRY = new Date('2026-11-22T10:30:00.001Z');

const ALL_STATUSES: PaymentStatus[] = ['PENDING', 'SUCCEEDED', 'FAILED', 'CLOSED', 'PARTIALLY_REFUNDED', 'REFUNDED'];

function payment(status: PaymentStatus, overrides: Partial<Payment> = {}): Payment {
  return {
    id: 'pay_1',
    merchantId: 'mch_1',
    orderNo: 'ORD1',
    status,
    amountMinor: 10_000,
    currency: 'CNY',
    subject: 'top-up',
    channel: 'SANDBOX',
    method: 'QR',
    metadata: {},
    refundedMinor: 0,
    late: false,
    expiresAt: EXPIRES_AT.toISOString(),
    createdAt: CREATED_AT.toISOString(),
    updatedAt: CREATED_AT.toISOString(),
    requestHash: 'hash',
    version: 1,
    ...overrides,
  };
}

function result(status: ChannelPaymentResult['status'], overrides: Partial<ChannelPaymentResult> = {}) {
  return {
    paymentId: 'pay_1',
    status,
    amountMinor: 10_000,
    currency: 'CNY',
    channelTradeNo: 'sbx_1',
    ...overrides,
  } satisfies ChannelPaymentResult;
}

describe('decideResult for a success', () => {
  it('succeeds a PENDING payment on time before expiry', () => {
    expect(decideResult(payment('PENDING'), result('SUCCEEDED'), BEFORE_EXPIRY)).toEqual({
      kind: 'succeed',
      late: false,
    });
  });

  it('succeeds a PENDING payment late once it has expired', () => {
    expect(decideResult(payment('PENDING'), result('SUCCEEDED'), AFTER_EXPIRY)).toEqual({
      kind: 'succeed',
      late: true,
    });
  });

  it('keeps a payment made before expiry on time even when its news arrives after expiry', () => {
    const paidAt = new Date(BEFORE_EXPIRY.getTime()).toISOString();
    expect(decideResult(payment('PENDING'), result('SUCCEEDED', { paidAt }), AFTER_EXPIRY)).toEqual({
      kind: 'succeed',
      late: false,
    });
  });

  it('flags a payment the channel says was made after expiry as late', () => {
    const paidAt = new Date(AFTER_EXPIRY.getTime()).toISOString();
    expect(decideResult(payment('PENDING'), result('SUCCEEDED', { paidAt }), AFTER_EXPIRY)).toEqual({
      kind: 'succeed',
      late: true,
    });
  });

  it('treats the exact expiry instant as expired', () => {
    expect(decideResult(payment('PENDING'), result('SUCCEEDED'), EXPIRES_AT)).toEqual({ kind: 'succeed', late: true });
  });

  it('succeeds a CLOSED payment late rather than dropping the money', () => {
    expect(decideResult(payment('CLOSED'), result('SUCCEEDED'), BEFORE_EXPIRY)).toEqual({
      kind: 'succeed',
      late: true,
    });
  });

  it('succeeds a FAILED payment late rather than dropping the money', () => {
    expect(decideResult(payment('FAILED'), result('SUCCEEDED'), BEFORE_EXPIRY)).toEqual({
      kind: 'succeed',
      late: true,
    });
  });

  it.each(['SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED'] as const)(
    'treats a repeat success on %s as a duplicate',
    (status) => {
      expect(decideResult(payment(status), result('SUCCEEDED'), BEFORE_EXPIRY)).toEqual({ kind: 'duplicate' });
      expect(decideResult(payment(status), result('SUCCEEDED'), AFTER_EXPIRY)).toEqual({ kind: 'duplicate' });
    },
  );
});

describe('decideResult for a failure', () => {
  it('fails a PENDING payment', () => {
    expect(decideResult(payment('PENDING'), result('FAILED'), BEFORE_EXPIRY)).toEqual({ kind: 'fail' });
  });

  it.each(['SUCCEEDED', 'FAILED', 'CLOSED', 'PARTIALLY_REFUNDED', 'REFUNDED'] as const)(
    'treats a failure on %s as a duplicate that changes nothing',
    (status) => {
      expect(decideResult(payment(status), result('FAILED'), BEFORE_EXPIRY)).toEqual({ kind: 'duplicate' });
    },
  );
});

describe('decideResult with a disagreeing amount or currency', () => {
  const mismatches = ALL_STATUSES.flatMap((status) =>
    (['SUCCEEDED', 'FAILED'] as const).flatMap((outcome) => [
      { status, outcome, change: { amountMinor: 9_999 }, label: 'amount' },
      { status, outcome, change: { currency: 'USD' }, label: 'currency' },
    ]),
  );

  it.each(mismatches)(
    'rejects a $outcome result with a different $label on a $status payment',
    ({ status, outcome, change }) => {
      const error = expectCode(
        () => decideResult(payment(status), result(outcome, change), BEFORE_EXPIRY),
        AmountMismatchError,
        'AMOUNT_MISMATCH',
      );
      expect(error.httpStatus).toBe(400);
    },
  );

  it('reports the expected and reported amounts in the error details', () => {
    const error = expectCode(
      () => decideResult(payment('PENDING'), result('SUCCEEDED', { amountMinor: 1 }), BEFORE_EXPIRY),
      AmountMismatchError,
      'AMOUNT_MISMATCH',
    );
    expect(error.details).toEqual({
      payment_id: 'pay_1',
      expected: { amount_minor: 10_000, currency: 'CNY' },
      reported: { amount_minor: 1, currency: 'CNY' },
    });
  });
});

describe('visibleStatus', () => {
  it('shows a PENDING payment as PENDING before expiry', () => {
    expect(visibleStatus(payment('PENDING'), BEFORE_EXPIRY)).toBe('PENDING');
  });

  it('shows a PENDING payment past expires_at as CLOSED', () => {
    expect(visibleStatus(payment('PENDING'), AFTER_EXPIRY)).toBe('CLOSED');
    expect(visibleStatus(payment('PENDING'), EXPIRES_AT)).toBe('CLOSED');
  });

  it.each(['SUCCEEDED', 'FAILED', 'CLOSED', 'PARTIALLY_REFUNDED', 'REFUNDED'] as const)(
    'shows a %s payment as stored, even past expiry',
    (status) => {
      expect(visibleStatus(payment(status), AFTER_EXPIRY)).toBe(status);
    },
  );
});

describe('assertClosable', () => {
  it('accepts a PENDING payment', () => {
    expect(() => assertClosable(payment('PENDING'), BEFORE_EXPIRY)).not.toThrow();
  });

  it.each(['SUCCEEDED', 'FAILED', 'CLOSED', 'PARTIALLY_REFUNDED', 'REFUNDED'] as const)(
    'refuses to close a %s payment with 409 INVALID_STATE',
    (status) => {
      const error = expectCode(() => assertClosable(payment(status), BEFORE_EXPIRY), ConflictError, 'INVALID_STATE');
      expect(error.httpStatus).toBe(409);
      expect(error.details).toEqual({ status });
    },
  );
});
