import { type EgressPolicy, urlProblem } from '#domain/egress-policy.ts';
import { exponentOf, isSupportedCurrency, parseAmount } from '#domain/money.ts';
import { CHANNELS, PAY_METHODS } from '#domain/payment.ts';
import { AppError } from '#shared/errors.ts';
import * as z from '#shared/zod.ts';
import { accountIdSchema, codedIssue, currencySchema } from './validation.ts';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** `https:` URLs; plain `http:` only to a loopback host, and only when the local stack allows it. */
export function callbackUrlSchema(allowLoopbackHttp: boolean) {
  return z.string().check(
    z.maxLength(2048),
    z.refine((value) => {
      if (!URL.canParse(value)) return false;
      const url = new URL(value);
      if (url.protocol === 'https:') return true;
      return allowLoopbackHttp && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
    }, 'must be an https URL'),
  );
}

/** A URL the gateway will POST to: `400 NOTIFY_URL_INVALID` unless the egress policy allows it (names checked later). */
export function notifyUrlSchema(policy: EgressPolicy) {
  return z.string().check(
    z.superRefine((value, ctx) => {
      const problem = urlProblem(value, policy);
      if (problem) codedIssue(ctx, 'NOTIFY_URL_INVALID', `notify_url ${problem}`, []);
    }),
  );
}

/** A merchant's order number: 1–64 of `[A-Za-z0-9_-]`. */
const orderNoSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'order_no: 1-64 of [A-Za-z0-9_-]'));

/** `GET /v1/payments?order_no=…`: the one payment of that order number (no listing parameters beside it). */
export const paymentByOrderNoQuerySchema = z.strictObject({ order_no: orderNoSchema });

/**
 * `metadata`: at most 20 string→string pairs (key 1–40 chars, value ≤ 500). `constructor`, `toString` and the like are
 * ordinary keys. `__proto__` is refused by name: JSON keeps it as a key, but an object built by assignment (zod's
 * output, the DynamoDB marshaller) cannot, so it could never be stored and returned as sent.
 */
const metadataSchema = z.pipe(
  z.unknown().check(
    z.superRefine((value, ctx) => {
      if (value !== null && typeof value === 'object' && Object.hasOwn(value, '__proto__')) {
        ctx.addIssue({ code: 'custom', message: 'the key "__proto__" is reserved', path: ['__proto__'] });
      }
    }),
  ),
  z
    .record(z.string().check(z.minLength(1), z.maxLength(40)), z.string().check(z.maxLength(500)))
    .check(z.refine((value) => Object.keys(value).length <= 20, 'metadata holds at most 20 pairs')),
);

const paymentSchemas = new Map<boolean, ReturnType<typeof buildPaymentSchema>>();

/**
 * The `POST /v1/payments` body schema of a host that does (the local stack) or does not allow loopback `http:` URLs:
 * built once per value and reused (zod schemas are immutable; building one costs more than a parse with it).
 */
export function createPaymentSchema(options: { allowLoopbackHttp: boolean }) {
  let schema = paymentSchemas.get(options.allowLoopbackHttp);
  if (!schema) {
    schema = buildPaymentSchema(options.allowLoopbackHttp);
    paymentSchemas.set(options.allowLoopbackHttp, schema);
  }
  return schema;
}

/**
 * `POST /v1/payments` body. Unknown fields are rejected (like Stripe's `parameter_unknown`), so a misspelt optional
 * field never silently falls back to a default. `amount` becomes integer minor units here.
 */
function buildPaymentSchema(allowLoopbackHttp: boolean) {
  const url = callbackUrlSchema(allowLoopbackHttp);
  const body = z.pipe(
    z.strictObject({
      order_no: orderNoSchema,
      // Optional here only so that a missing amount reaches parseAmount and gets AMOUNT_INVALID like an empty one.
      amount: z.optional(z.unknown()),
      currency: z._default(currencySchema, 'CNY'),
      subject: z.string().check(z.minLength(1), z.maxLength(128)),
      description: z.nullish(z.string().check(z.maxLength(512))),
      channel: z.nullish(z.enum(CHANNELS)),
      method: z.nullish(z.enum(PAY_METHODS)),
      account_id: z.nullish(accountIdSchema),
      payer_account_id: z.nullish(accountIdSchema),
      notify_url: z.nullish(notifyUrlSchema({ allowLoopback: allowLoopbackHttp })),
      return_url: z.nullish(url),
      expire_in_seconds: z._default(z.number().check(z.int(), z.gte(60), z.lte(86_400)), 1800),
      metadata: z._default(metadataSchema, {}),
      // Risk signals of the payer (signed with the body; not part of the payment's identity for idempotency).
      device_id: z.nullish(
        z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/, 'device_id: 1-128 of [A-Za-z0-9._:-]')),
      ),
      payer_ip: z.nullish(z.union([z.ipv4(), z.ipv6()])),
    }),
    z.transform((body, ctx) => {
      if (!isSupportedCurrency(body.currency)) {
        codedIssue(ctx, 'CURRENCY_UNSUPPORTED', `currency ${body.currency} is not supported`, ['currency']);
        return z.NEVER;
      }
      try {
        const { minor } = parseAmount(body.amount, body.currency);
        return { ...body, amountMinor: minor, exponent: exponentOf(body.currency) };
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        codedIssue(ctx, error.code, error.message, ['amount']);
        return z.NEVER;
      }
    }),
  );
  // `null` means "not given" for every optional field (the contract's example sends `"payer_account_id": null`).
  return z.pipe(z.transform(dropNullFields), body);
}

function dropNullFields(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== null));
}

export type CreatePaymentBody = z.output<ReturnType<typeof createPaymentSchema>>;

/**
 * The parameters that define a payment, normalised (amount in minor units, defaults applied), so `"100.0"` and
 * `"100.00"`, or an omitted field and an explicit `null`, are the same request for idempotency.
 */
export function paymentParameters(body: CreatePaymentBody, channel: string) {
  return {
    operation: 'payment.create',
    order_no: body.order_no,
    amount_minor: body.amountMinor,
    currency: body.currency,
    subject: body.subject,
    description: body.description,
    channel,
    method: body.method ?? 'QR',
    account_id: body.account_id,
    payer_account_id: body.payer_account_id,
    notify_url: body.notify_url,
    return_url: body.return_url,
    expire_in_seconds: body.expire_in_seconds,
    metadata: body.metadata,
  };
}
