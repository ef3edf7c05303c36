import Big from 'big.js';
import { ValidationError } from '#shared/errors.ts';

/**
 * ISO 4217 minor-unit exponents of the currencies the gateway accepts. A currency missing here is rejected with
 * `CURRENCY_UNSUPPORTED`; adding one is a one-line change covered by the table-driven tests.
 */
// biome-ignore format: a currency table reads better dense
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = Object.freeze({
  AED: 2, AUD: 2, BHD: 3, BRL: 2, CAD: 2, CHF: 2, CLP: 0, CNY: 2, CZK: 2, DKK: 2, EUR: 2, GBP: 2, HKD: 2, HUF: 2,
  IDR: 2, ILS: 2, INR: 2, IQD: 3, ISK: 0, JOD: 3, JPY: 0, KRW: 0, KWD: 3, LYD: 3, MOP: 2, MXN: 2, MYR: 2, NOK: 2,
  NZD: 2, OMR: 3, PHP: 2, PLN: 2, RUB: 2, SAR: 2, SEK: 2, SGD: 2, THB: 2, TND: 3, TRY: 2, TWD: 2, UGX: 0, USD: 2,
  VND: 0, XAF: 0, XOF: 0, ZAR: 2,
});

/** An amount of money: integer minor units (fen, cents, yen) and its currency. Never a float. */
export interface Money {
  readonly minor: number;
  readonly currency: string;
}

const AMOUNT_PATTERN = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** Whether the gateway accepts this ISO 4217 alpha-3 code. */
export function isSupportedCurrency(currency: string): boolean {
  return Object.hasOwn(CURRENCY_EXPONENTS, currency);
}

/** The currency's ISO 4217 exponent; throws `CURRENCY_UNSUPPORTED` for an unknown code. */
export function exponentOf(currency: string): number {
  const exponent = isSupportedCurrency(currency) ? CURRENCY_EXPONENTS[currency] : undefined;
  if (exponent === undefined) {
    throw new ValidationError('CURRENCY_UNSUPPORTED', `currency ${currency} is not supported`, { currency });
  }
  return exponent;
}

function amountInvalid(message: string, value: unknown): ValidationError {
  return new ValidationError('AMOUNT_INVALID', message, { amount: typeof value === 'string' ? value : typeof value });
}

/**
 * Parses a contract amount (a decimal string in major units) into integer minor units.
 * Rejects JSON numbers, signs, exponents, leading zeros, empty strings, zero, and more fraction digits than the
 * currency's exponent — all with `AMOUNT_INVALID`.
 */
export function parseAmount(value: unknown, currency: string): Money {
  const exponent = exponentOf(currency);
  if (typeof value !== 'string') throw amountInvalid('amount must be a decimal string such as "100.00"', value);
  const match = AMOUNT_PATTERN.exec(value);
  if (!match) throw amountInvalid('amount must be a plain decimal string such as "100.00"', value);
  const fraction = match[2] ?? '';
  if (fraction.length - 1 > exponent) {
    throw amountInvalid(`${currency} amounts have at most ${exponent} fraction digits`, value);
  }
  const minor = new Big(value).times(new Big(10).pow(exponent));
  if (minor.lte(0)) throw amountInvalid('amount must be greater than zero', value);
  if (minor.gt(Number.MAX_SAFE_INTEGER)) throw amountInvalid('amount is too large', value);
  return { minor: minor.toNumber(), currency };
}

/**
 * Converts a configured decimal limit (major units, e.g. `"0.01"`) to whole minor units of `currency`, rounding
 * `up` for a minimum and `down` for a maximum (a 0.01 minimum is 1 yen in JPY).
 */
export function limitToMinor(decimal: string, currency: string, rounding: 'up' | 'down'): number {
  const minor = new Big(decimal).times(new Big(10).pow(exponentOf(currency)));
  return minor.round(0, rounding === 'up' ? Big.roundUp : Big.roundDown).toNumber();
}

/** Formats minor units as the contract's decimal string with the full exponent (`10000` CNY → `"100.00"`). */
export function formatAmount(minor: number, currency: string): string {
  assertMinor(minor);
  return new Big(minor).div(new Big(10).pow(exponentOf(currency))).toFixed(exponentOf(currency));
}

/**
 * Sums minor-unit amounts. Integer addition is exact below 2^53; this guard makes leaving that range an error
 * instead of silent rounding, so no caller ever does unchecked `number` arithmetic on money.
 */
export function addMinor(...amounts: number[]): number {
  let total = 0;
  for (const amount of amounts) {
    assertMinor(amount);
    total += amount;
  }
  assertMinor(total);
  return total;
}

function assertMinor(minor: number): void {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not an integer amount of minor units: ${minor}`);
}
