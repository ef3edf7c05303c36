import { isSupportedCurrency } from '#domain/money.ts';
import { ValidationError } from '#shared/errors.ts';
import * as z from '#shared/zod.ts';

/**
 * Parses untrusted input with a zod schema. An issue that carries its own contract code (`params.code`, e.g.
 * `AMOUNT_INVALID`) decides the error code; anything else is `VALIDATION_FAILED`. Never a 500.
 */
export function parseInput<S extends z.ZodMiniType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const coded = issues.find((issue) => issue.code === 'custom' && typeof issue.params?.code === 'string');
  const code = coded?.code === 'custom' ? String(coded.params?.code) : 'VALIDATION_FAILED';
  const first = coded ?? issues[0];
  const where = first?.path.length ? `${first.path.join('.')}: ` : '';
  throw new ValidationError(code, `${where}${first?.message ?? 'invalid request'}`, {
    issues: issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  });
}

/** Parses untrusted JSON text; malformed JSON is `400 INVALID_JSON` (naming `what`), never a 500. */
export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('INVALID_JSON', `${what} is not valid JSON`);
  }
}

/**
 * Adds an issue that maps to a specific contract code, from a refinement or a transform (both are handed the parse
 * payload; zod/mini's transforms have no `addIssue`).
 */
export function codedIssue(ctx: z.core.ParsePayload, code: string, message: string, path: PropertyKey[]): void {
  ctx.issues.push({ code: 'custom', message, path, params: { code }, input: ctx.value, continue: true });
}

/**
 * A whole number in a query string, written plainly: `^(0|[1-9][0-9]*)$` — no sign, exponent, hex, fraction, spaces
 * or leading zeros (`1e2`, `0x10`, `10.0`, ` 10`, `+10`, `010` are `VALIDATION_FAILED`), then bounded.
 */
export function queryIntegerSchema(min: number, max: number) {
  return z.pipe(
    z.pipe(
      z.string().check(z.regex(/^(0|[1-9][0-9]*)$/, 'must be a whole number written in decimal digits')),
      z.transform(Number),
    ),
    z.number().check(z.int(), z.gte(min), z.lte(max)),
  );
}

export const accountIdSchema = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_.:@-]{1,64}$/, 'account id: 1-64 of [A-Za-z0-9_.:@-]'));
const CURRENCY_CODE = /^[A-Z]{3}$/;

export const currencySchema = z.string().check(z.regex(CURRENCY_CODE, 'currency must be an ISO 4217 alpha-3 code'));

/** A currency the gateway accepts: malformed → `VALIDATION_FAILED`, well-formed but unknown → `CURRENCY_UNSUPPORTED`. */
export const supportedCurrencySchema = currencySchema.check(
  z.superRefine((currency, ctx) => {
    // zod runs refinements even after the format check failed: a malformed code stays VALIDATION_FAILED.
    if (CURRENCY_CODE.test(currency) && !isSupportedCurrency(currency)) {
      codedIssue(ctx, 'CURRENCY_UNSUPPORTED', `currency ${currency} is not supported`, []);
    }
  }),
);
