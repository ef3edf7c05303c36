import { exponentOf, isSupportedCurrency } from '#domain/money.ts';

const DECIMAL = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * A bill's signed decimal of major units (`"-0.01"`, `"12.34"`, WeChat Pay's fee `"0.05940"`) in integer minor units
 * of `currency`. `exact` refuses digits below the minor unit; `halfUp` rounds them half away from zero (fees).
 * Undefined when invalid. Pure digit-string arithmetic (a bill has ~4 amounts a line, 100,000s of lines): the digits
 * are capped at 15, so `Number` reads them exactly.
 */
export function decimalToMinor(text: string, currency: string, rounding: 'exact' | 'halfUp' = 'exact') {
  const match = DECIMAL.exec(text);
  if (!match || !isSupportedCurrency(currency)) return undefined;
  const exponent = exponentOf(currency);
  const [, sign, whole = '', fraction = ''] = match;
  const dropped = fraction.slice(exponent);
  if ((rounding === 'exact' && /[1-9]/.test(dropped)) || whole.length + exponent > 15) return undefined;
  const minor = Number(whole + fraction.slice(0, exponent).padEnd(exponent, '0')) + (dropped >= '5' ? 1 : 0);
  return sign && minor !== 0 ? -minor : minor; // never -0
}

/** `-n` without producing `-0`. */
export function negate(minor: number): number {
  return minor === 0 ? 0 : -minor;
}

const SHANGHAI_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

/** A channel time `2026-01-02 08:00:00` (Asia/Shanghai, no offset written) as ISO UTC; undefined if not a real time. */
export function shanghaiTimeToIso(text: string): string | undefined {
  const match = SHANGHAI_TIME.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const local = Date.UTC(year ?? 0, (month ?? 0) - 1, day, hour, minute, second);
  // Date.UTC rolls 02-30 over into March: a time that does not read back the same was not a real time.
  if (new Date(local).toISOString().slice(0, 19).replace('T', ' ') !== text) return undefined;
  return new Date(local - SHANGHAI_OFFSET_MS).toISOString();
}

/**
 * Splits one CSV line (RFC 4180 quoting, `""` inside quotes). Undefined when a quote is left open, as a field that
 * spans lines is not something these bills contain.
 */
export function splitCsvLine(line: string): string[] | undefined {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i];
    if (char === '"' && quoted && line[i + 1] === '"') {
      field += '"';
      i += 1;
    } else if (char === '"') {
      quoted = !quoted;
    } else if (char === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else {
      field += char;
    }
  }
  if (quoted) return undefined;
  fields.push(field);
  return fields;
}

/** A CSV field, quoted when it holds a comma, a quote or a line break. */
export function quoteCsv(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Where each wanted column sits in a header, or the names missing from it. */
export function locateColumns<K extends string>(
  header: readonly string[],
  wanted: Readonly<Record<K, string>>,
  optional: readonly K[] = [],
): { index: Partial<Record<K, number>>; missing: string[] } {
  const positions = new Map(header.map((name, i) => [name.trim(), i]));
  const index: Partial<Record<K, number>> = {};
  const missing: string[] = [];
  for (const key of Object.keys(wanted) as K[]) {
    const at = positions.get(wanted[key]);
    if (at !== undefined) index[key] = at;
    else if (!optional.includes(key)) missing.push(wanted[key]);
  }
  return { index, missing };
}
