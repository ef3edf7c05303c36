import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMinor, CURRENCY_EXPONENTS, exponentOf, formatAmount, limitToMinor, parseAmount } from '#domain/money.ts';
import { ValidationError } from '#shared/errors.ts';
import { expectCode } from './expect-error.ts';

const CURRENCIES = Object.keys(CURRENCY_EXPONENTS);

describe('parseAmount', () => {
  it.each([
    ['100.00', 'CNY', 10_000],
    ['0.01', 'CNY', 1],
    ['5', 'CNY', 500],
    ['100.5', 'CNY', 10_050],
    ['100', 'JPY', 100],
    ['1.234', 'KWD', 1234],
    ['0.001', 'KWD', 1],
    ['12.3', 'USD', 1230],
  ])('accepts %j in %s as %d minor units', (value, currency, minor) => {
    expect(parseAmount(value, currency)).toEqual({ minor, currency });
  });

  it.each([
    ['a JSON number', 100, 'CNY'],
    ['a negative amount', '-1', 'CNY'],
    ['an exponent', '1e3', 'CNY'],
    ['a plus sign', '+1', 'CNY'],
    ['a leading zero', '01.00', 'CNY'],
    ['an empty string', '', 'CNY'],
    ['zero', '0', 'CNY'],
    ['zero with decimals', '0.00', 'CNY'],
    ['a missing integer part', '.5', 'CNY'],
    ['a trailing dot', '5.', 'CNY'],
    ['leading whitespace', ' 5', 'CNY'],
    ['trailing whitespace', '5 ', 'CNY'],
    ['a comma separator', '1,000.00', 'CNY'],
    ['three fraction digits in CNY', '1.001', 'CNY'],
    ['trailing zeros beyond the exponent in CNY', '1.000', 'CNY'],
    ['any fraction in JPY', '1.5', 'JPY'],
    ['a zero fraction in JPY', '1.0', 'JPY'],
    ['four fraction digits in KWD', '1.2345', 'KWD'],
    ['null', null, 'CNY'],
    ['undefined', undefined, 'CNY'],
    ['an object', { value: '1.00' }, 'CNY'],
    ['an array', ['1.00'], 'CNY'],
    ['a boolean', true, 'CNY'],
    ['an amount beyond the safe integer range', '90071992547409.92', 'CNY'],
  ])('rejects %s with AMOUNT_INVALID', (_label, value, currency) => {
    expectCode(() => parseAmount(value, currency), ValidationError, 'AMOUNT_INVALID');
  });

  it('accepts the largest safe integer of minor units', () => {
    expect(parseAmount('90071992547409.91', 'CNY').minor).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('rejects an unknown currency with CURRENCY_UNSUPPORTED', () => {
    const error = expectCode(() => parseAmount('1.00', 'XXX'), ValidationError, 'CURRENCY_UNSUPPORTED');
    expect(error.httpStatus).toBe(400);
  });

  it('rejects a lowercase currency code with CURRENCY_UNSUPPORTED', () => {
    expectCode(() => parseAmount('1.00', 'cny'), ValidationError, 'CURRENCY_UNSUPPORTED');
  });

  it.each(['toString', 'constructor', '__proto__'])(
    'rejects the inherited object key %j as a currency with CURRENCY_UNSUPPORTED',
    (currency) => {
      expectCode(() => exponentOf(currency), ValidationError, 'CURRENCY_UNSUPPORTED');
      expectCode(() => parseAmount('1', currency), ValidationError, 'CURRENCY_UNSUPPORTED');
      expectCode(() => formatAmount(1, currency), ValidationError, 'CURRENCY_UNSUPPORTED');
    },
  );

  it('answers AMOUNT_INVALID as a 400 with the offending string in the details', () => {
    const error = expectCode(() => parseAmount('1e3', 'CNY'), ValidationError, 'AMOUNT_INVALID');
    expect(error.httpStatus).toBe(400);
    expect(error.details).toEqual({ amount: '1e3' });
  });
});

describe('formatAmount', () => {
  it.each([
    [10_000, 'CNY', '100.00'],
    [1, 'CNY', '0.01'],
    [10_050, 'CNY', '100.50'],
    [0, 'CNY', '0.00'],
    [5, 'JPY', '5'],
    [1234, 'KWD', '1.234'],
    [1000, 'KWD', '1.000'],
    [Number.MAX_SAFE_INTEGER, 'USD', '90071992547409.91'],
  ])('prints %d %s as %j', (minor, currency, text) => {
    expect(formatAmount(minor, currency)).toBe(text);
  });

  it('rejects a fractional number of minor units', () => {
    expect(() => formatAmount(1.5, 'CNY')).toThrow(RangeError);
  });

  it('rejects an unknown currency with CURRENCY_UNSUPPORTED', () => {
    expectCode(() => formatAmount(100, 'XXX'), ValidationError, 'CURRENCY_UNSUPPORTED');
  });
});

describe('limitToMinor', () => {
  it.each([
    ['0.01', 'JPY', 'up', 1],
    ['0.01', 'JPY', 'down', 0],
    ['50000.00', 'JPY', 'down', 50_000],
    ['50000.99', 'JPY', 'down', 50_000],
    ['50000.01', 'JPY', 'up', 50_001],
    ['0.01', 'CNY', 'up', 1],
    ['50000.00', 'CNY', 'down', 5_000_000],
    ['0.015', 'CNY', 'up', 2],
    ['0.015', 'CNY', 'down', 1],
    ['0.01', 'KWD', 'up', 10],
    ['1.2345', 'KWD', 'down', 1234],
    ['1.2345', 'KWD', 'up', 1235],
  ] as const)('converts %j %s rounding %s to %d', (decimal, currency, rounding, minor) => {
    expect(limitToMinor(decimal, currency, rounding)).toBe(minor);
  });
});

describe('addMinor', () => {
  it('sums integer amounts, including negative deltas', () => {
    expect(addMinor(100, 250, -50)).toBe(300);
    expect(addMinor()).toBe(0);
  });

  it('rejects a non-integer operand', () => {
    expect(() => addMinor(1, 0.5)).toThrow(RangeError);
    expect(() => addMinor(Number.NaN)).toThrow(RangeError);
    expect(() => addMinor(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('rejects a sum that leaves the safe integer range', () => {
    expect(() => addMinor(Number.MAX_SAFE_INTEGER, 1)).toThrow(RangeError);
    expect(() => addMinor(-Number.MAX_SAFE_INTEGER, -1)).toThrow(RangeError);
  });

  it('rejects an operand outside the safe integer range', () => {
    expect(() => addMinor(2 ** 53, -1)).toThrow(RangeError);
  });
});

describe('amount properties', () => {
  const currency = fc.constantFrom(...CURRENCIES);
  const minor = fc.integer({ min: 1, max: 10 ** 12 });

  it('parses every formatted amount back to the same minor units', () => {
    fc.assert(
      fc.property(currency, minor, (code, amount) => {
        expect(parseAmount(formatAmount(amount, code), code)).toEqual({ minor: amount, currency: code });
      }),
    );
  });

  it('always prints exactly the currency exponent of fraction digits', () => {
    fc.assert(
      fc.property(currency, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (code, amount) => {
        const text = formatAmount(amount, code);
        const exponent = exponentOf(code);
        const [integer, fraction, ...rest] = text.split('.');
        expect(rest).toEqual([]);
        expect(integer).toMatch(/^(0|[1-9][0-9]*)$/);
        if (exponent === 0) expect(fraction).toBeUndefined();
        else expect(fraction).toHaveLength(exponent);
      }),
    );
  });

  it('never accepts more fraction digits than the currency exponent', () => {
    const tooPrecise = currency.chain((code) => {
      const exponent = exponentOf(code);
      const fraction = fc
        .array(fc.constantFrom(...'0123456789'), { minLength: exponent + 1, maxLength: exponent + 4 })
        .map((digits) => digits.join(''));
      return fc.tuple(fc.constant(code), fc.integer({ min: 0, max: 10 ** 9 }), fraction);
    });
    fc.assert(
      fc.property(tooPrecise, ([code, integer, fraction]) => {
        expectCode(() => parseAmount(`${integer}.${fraction}`, code), ValidationError, 'AMOUNT_INVALID');
      }),
    );
  });
});
