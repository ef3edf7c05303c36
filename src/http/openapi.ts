// Over 250 lines: the whole API surface, one operation per route, in one readable table.

import { sandboxPaymentCallbackSchema, sandboxRefundCallbackSchema } from '#adapters/channels/sandbox.ts';
import { eventListQuerySchema, paymentListQuerySchema, refundListQuerySchema } from '#app/listings.ts';
import { createPaymentSchema, paymentByOrderNoQuerySchema } from '#app/payment-schemas.ts';
import { balanceQuerySchema, eventAttemptsQuerySchema, ledgerQuerySchema } from '#app/query-schemas.ts';
import { reconciliationQuerySchema } from '#app/reconciliation-report.ts';
import { createRefundSchema } from '#app/refund-schemas.ts';
import { EVENT_TYPES } from '#domain/events.ts';
import { FUNCTIONS } from '#routes';
import * as z from '#shared/zod.ts';
import { codesOf, ERROR_CODES } from './error-codes.ts';
import {
  balanceSchema,
  errorSchema,
  eventSchema,
  eventSummarySchema,
  ledgerEntrySchema,
  listSchema,
  notificationSchema,
  paymentSchema,
  reconciliationSchema,
  refundSchema,
} from './schemas.ts';

/**
 * The OpenAPI 3.1 document of the gateway, generated from the zod schemas the handlers validate with (requests) and
 * the views are typed by (responses). Served at `GET /v1/openapi.json` and committed as `docs/openapi.json`
 * (`npm run openapi` regenerates it; a test fails when the two drift). Every route of `src/routes.ts` must have an
 * operation here, or building the document throws.
 */

type Json = Record<string, unknown>;

/** Named request schemas (described as the client sends them: `io: 'input'`). */
const requests = z.registry<{ id: string }>();
requests.add(createPaymentSchema({ allowLoopbackHttp: false }), { id: 'CreatePaymentRequest' });
requests.add(createRefundSchema, { id: 'CreateRefundRequest' });
requests.add(sandboxPaymentCallbackSchema, { id: 'SandboxPaymentCallback' });
requests.add(sandboxRefundCallbackSchema, { id: 'SandboxRefundCallback' });

/** Named response schemas (`io: 'output'`: no property beyond the listed ones). */
const responses = z.registry<{ id: string }>();
for (const [id, schema] of Object.entries({
  Payment: paymentSchema,
  Refund: refundSchema,
  Balance: balanceSchema,
  LedgerEntry: ledgerEntrySchema,
  Event: eventSchema,
  EventSummary: eventSummarySchema,
  Reconciliation: reconciliationSchema,
  Error: errorSchema,
  Notification: notificationSchema,
})) {
  responses.add(schema, { id });
}
const lists = {
  PaymentList: listSchema(paymentSchema),
  RefundList: listSchema(refundSchema),
  EventList: listSchema(eventSummarySchema),
  LedgerEntryList: listSchema(ledgerEntrySchema),
};
for (const [id, schema] of Object.entries(lists)) responses.add(schema, { id });

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** Component schemas of a registry, without the per-schema `$schema`/`$id` (the document's dialect applies). */
function componentSchemas(registry: z.core.$ZodRegistry<{ id: string }>, io: 'input' | 'output'): Json {
  const { schemas } = z.toJSONSchema(registry, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _schema, $id: _id, ...schema }]) => [id, schema]),
  );
}

/** `amount` is optional in zod only so that a missing one is `AMOUNT_INVALID`; the contract requires it. */
function requireAmount(schema: Json): Json {
  return { ...schema, required: [...((schema.required as string[] | undefined) ?? []), 'amount'] };
}

/** Query parameters from a query-string schema (every value is a string on the wire). */
function queryParameters(schema: z.ZodMiniType, omit: string[] = []): Json[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {})
    .filter(([name]) => !omit.includes(name))
    .map(([name, { description, ...property }]) => ({
      name,
      in: 'query',
      required: json.required?.includes(name) ?? false,
      ...(description ? { description } : {}),
      schema: property,
    }));
}

const pathParameter = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', maxLength: 255 },
});

const jsonContent = (schema: Json) => ({ 'application/json': { schema } });

/** The error response of a status, listing its codes (rate-limit headers on merchant-authenticated routes). */
function errorResponse(status: number): Json {
  const codes = codesOf(status);
  return {
    description: codes.map((code) => `\`${code}\`: ${ERROR_CODES[code]?.description}`).join('\n\n'),
    headers: {
      'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' },
      ...RATE_LIMIT_HEADERS,
      ...(status === 429 ? { 'Retry-After': { $ref: '#/components/headers/Retry-After' } } : {}),
    },
    // API Gateway itself answers a function that failed or timed out with `{"message": …}` (500, 503).
    content: jsonContent(status >= 500 ? { oneOf: [ref('Error'), GATEWAY_FAILURE] } : ref('Error')),
  };
}

const GATEWAY_FAILURE = {
  type: 'object',
  description: 'API Gateway’s own answer when the function failed or timed out.',
  properties: { message: { type: 'string' } },
  required: ['message'],
  additionalProperties: false,
};

/** Every status some error code is answered with. */
const ERROR_STATUSES = [...new Set(Object.values(ERROR_CODES).flatMap((entry) => entry.statuses))].sort();

/** The statuses every merchant-authenticated route can answer with, besides its own. */
const MERCHANT_ERRORS = [400, 401, 403, 404, 413, 415, 429, 500, 503];
/** The public routes (callbacks, cashier pages, this document). */
const PUBLIC_ERRORS = [400, 404, 413, 500];

const RATE_LIMIT_HEADERS = {
  'X-RateLimit-Limit': { $ref: '#/components/headers/X-RateLimit-Limit' },
  'X-RateLimit-Remaining': { $ref: '#/components/headers/X-RateLimit-Remaining' },
  'X-RateLimit-Reset': { $ref: '#/components/headers/X-RateLimit-Reset' },
};

interface Operation {
  summary: string;
  auth: boolean;
  /** Path parameters: name → description. */
  path?: Record<string, string>;
  query?: Json[];
  body?: Json;
  /** Success status → response object (schema, description). */
  ok: Record<number, Json>;
  /** Error statuses of this route beyond the common ones. */
  errors?: number[];
  /** Failures are answered in the channel's protocol, not always with the error envelope (channel callbacks). */
  channelProtocol?: boolean;
  /** A page for people: failures are HTML pages too (the sandbox cashier). */
  page?: boolean;
  idempotent?: boolean;
}

const okJson = (description: string, schema: Json, headers: Json = {}) => ({
  description,
  headers,
  content: jsonContent(schema),
});
/** A callback refused in its channel's protocol. */
const CHANNEL_FAILURE = {
  description:
    'Refused in the channel’s protocol: sandbox — the error envelope (`CALLBACK_SIGNATURE_INVALID`, ' +
    '`AMOUNT_MISMATCH`, …); WeChat Pay — `{"code": "FAIL", "message": …}`; Alipay — the body `fail`.',
  content: {
    'application/json': { schema: { type: 'object' } },
    'text/plain': { schema: { type: 'string' } },
  },
};
/** A cashier page's failure: an HTML page (404 unknown, 410 expired or closed) or the error envelope. */
const PAGE_FAILURE = {
  description: 'An HTML page saying what went wrong, or the error envelope.',
  content: {
    'text/html': { schema: { type: 'string' } },
    'application/json': { schema: { $ref: '#/components/schemas/Error' } },
  },
};
const REPLAYED = { 'Idempotent-Replayed': { $ref: '#/components/headers/Idempotent-Replayed' } };
const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });

/** Every route of `src/routes.ts`, keyed like it (`METHOD /path`). */
const OPERATIONS: Record<string, Operation> = {
  'POST /v1/payments': {
    summary: 'Create a payment (a recharge when `account_id` is given)',
    auth: true,
    idempotent: true,
    body: requireAmount({ $ref: '#/components/schemas/CreatePaymentRequest' }),
    ok: {
      201: okJson('The new payment.', ref('Payment')),
      200: okJson('A repeat of an earlier identical request: the original payment.', ref('Payment'), REPLAYED),
    },
    errors: [402, 409, 502],
  },
  'GET /v1/payments': {
    summary: 'List payments (newest first), or find one by `order_no`',
    auth: true,
    query: [
      ...queryParameters(paymentByOrderNoQuerySchema).map((parameter) => ({
        ...parameter,
        required: false,
        description: 'With `order_no` (and no other parameter) the answer is that one payment, not a list.',
      })),
      ...queryParameters(paymentListQuerySchema),
    ],
    ok: {
      200: okJson('A page of payments, or the payment of `order_no`.', {
        oneOf: [ref('PaymentList'), ref('Payment')],
      }),
    },
  },
  'GET /v1/payments/{id}': {
    summary: 'Retrieve a payment',
    auth: true,
    path: { id: 'Payment id (`pay_…`).' },
    ok: { 200: okJson('The payment.', ref('Payment')) },
  },
  'POST /v1/payments/{id}/close': {
    summary: 'Close a PENDING payment',
    auth: true,
    idempotent: true,
    path: { id: 'Payment id.' },
    ok: { 200: okJson('The closed payment.', ref('Payment'), REPLAYED) },
    errors: [409, 502],
  },
  'POST /v1/refunds': {
    summary: 'Refund (part of) a payment',
    auth: true,
    idempotent: true,
    body: requireAmount({ $ref: '#/components/schemas/CreateRefundRequest' }),
    ok: {
      201: okJson('The new refund.', ref('Refund')),
      200: okJson('A repeat of an earlier identical request: the original refund.', ref('Refund'), REPLAYED),
    },
    errors: [409, 502],
  },
  'GET /v1/refunds': {
    summary: 'List refunds (newest first)',
    auth: true,
    query: queryParameters(refundListQuerySchema),
    ok: { 200: okJson('A page of refunds.', ref('RefundList')) },
  },
  'GET /v1/refunds/{id}': {
    summary: 'Retrieve a refund',
    auth: true,
    path: { id: 'Refund id (`ref_…`).' },
    ok: { 200: okJson('The refund.', ref('Refund')) },
  },
  'GET /v1/accounts/{account_id}/balance': {
    summary: 'A wallet balance (zeros for an unknown account)',
    auth: true,
    path: { account_id: 'The merchant’s account id.' },
    query: queryParameters(balanceQuerySchema),
    ok: { 200: okJson('The balance.', ref('Balance')) },
  },
  'GET /v1/accounts/{account_id}/ledger': {
    summary: 'A wallet’s ledger entries (newest first)',
    auth: true,
    path: { account_id: 'The merchant’s account id.' },
    query: queryParameters(ledgerQuerySchema),
    ok: { 200: okJson('A page of ledger entries.', ref('LedgerEntryList')) },
  },
  'GET /v1/events': {
    summary: 'List events (newest first)',
    auth: true,
    query: queryParameters(eventListQuerySchema),
    ok: { 200: okJson('A page of events.', ref('EventList')) },
  },
  'GET /v1/events/{id}': {
    summary: 'Retrieve an event with a page of its delivery attempts',
    auth: true,
    path: { id: 'Event id (`evt_…`).' },
    query: queryParameters(eventAttemptsQuerySchema),
    ok: { 200: okJson('The event.', ref('Event')) },
  },
  'POST /v1/events/{id}/replay': {
    summary: 'Deliver an event again',
    auth: true,
    path: { id: 'Event id.' },
    ok: { 202: okJson('The event; a new delivery run is queued.', ref('Event')) },
    errors: [409],
  },
  'GET /v1/reconciliations/{date}': {
    summary: 'A channel-day’s reconciliation (finance merchants)',
    auth: true,
    path: { date: 'UTC day, YYYY-MM-DD.' },
    query: queryParameters(reconciliationQuerySchema, ['date']),
    ok: { 200: okJson('The reconciliation.', ref('Reconciliation')) },
  },
  'POST /v1/callbacks/{channel}': {
    summary: 'A payment channel’s result notification (verified by the channel’s own signature)',
    auth: false,
    path: { channel: '`sandbox`, `alipay` or `wechat-pay`.' },
    body: {
      oneOf: [ref('SandboxPaymentCallback'), ref('SandboxRefundCallback'), { description: 'Alipay / WeChat Pay body' }],
    },
    ok: {
      200: {
        description: 'Acknowledged in the channel’s protocol (sandbox: `{"received": true}`; Alipay: `success`).',
        content: {
          'application/json': { schema: { type: 'object' } },
          'text/plain': { schema: { type: 'string' } },
        },
      },
      204: { description: 'Acknowledged (WeChat Pay).' },
    },
    errors: [401, 403, 503],
    channelProtocol: true,
  },
  'GET /sandbox/checkout/{payment_id}': {
    summary: 'Sandbox cashier page (only when the sandbox channel is enabled)',
    auth: false,
    page: true,
    errors: [410],
    path: { payment_id: 'Payment id.' },
    ok: { 200: html('The cashier page.') },
  },
  'POST /sandbox/checkout/{payment_id}': {
    summary: 'Sandbox cashier: pay or fail (form `outcome=pay|fail`)',
    auth: false,
    page: true,
    errors: [410],
    path: { payment_id: 'Payment id.' },
    ok: { 200: html('The result page.') },
  },
  'GET /sandbox/refunds/{refund_id}': {
    summary: 'Sandbox channel operator page of a refund',
    auth: false,
    page: true,
    errors: [410],
    path: { refund_id: 'Refund id.' },
    ok: { 200: html('The refund page.') },
  },
  'POST /sandbox/refunds/{refund_id}': {
    summary: 'Sandbox channel operator: refund succeeds or fails (form `outcome=succeed|fail`)',
    auth: false,
    page: true,
    errors: [410],
    path: { refund_id: 'Refund id.' },
    ok: { 200: html('The result page.') },
  },
  'GET /v1/openapi.json': {
    summary: 'This document',
    auth: false,
    ok: { 200: okJson('The OpenAPI 3.1 document.', { type: 'object' }) },
  },
};

function operation(key: string, spec: Operation): Json {
  const statuses = [...new Set([...(spec.auth ? MERCHANT_ERRORS : PUBLIC_ERRORS), ...(spec.errors ?? [])])].sort();
  const rateLimited = spec.auth ? RATE_LIMIT_HEADERS : {};
  const okResponses = Object.fromEntries(
    Object.entries(spec.ok).map(([status, response]) => [
      status,
      { ...response, headers: { ...(response.headers as Json | undefined), ...rateLimited } },
    ]),
  );
  const errorResponses = Object.fromEntries(
    statuses.map((status) => [
      status,
      spec.channelProtocol
        ? CHANNEL_FAILURE
        : spec.page
          ? PAGE_FAILURE
          : { $ref: `#/components/responses/Error${status}` },
    ]),
  );
  return {
    operationId: key.replace(/[^A-Za-z0-9]+/g, '_').replace(/_$/, ''),
    summary: spec.summary,
    ...(spec.auth ? {} : { security: [] }),
    parameters: [
      ...Object.entries(spec.path ?? {}).map(([name, description]) => pathParameter(name, description)),
      ...(spec.query ?? []),
      ...(spec.idempotent ? [{ $ref: '#/components/parameters/Idempotency-Key' }] : []),
    ],
    ...(spec.body ? { requestBody: { required: true, content: jsonContent(spec.body) } } : {}),
    responses: { ...okResponses, ...errorResponses },
  };
}

/** The document's `paths`: every route of `src/routes.ts` (a route without an operation here is an error). */
function paths(): Json {
  const out: Record<string, Json> = {};
  const routes = FUNCTIONS.flatMap((spec) => spec.routes).filter((route) => route !== '$default');
  for (const route of routes) {
    const spec = OPERATIONS[route];
    if (!spec) throw new Error(`OpenAPI: no operation for route ${route}`);
    const [method = '', path = ''] = route.split(' ');
    out[path] = { ...out[path], [method.toLowerCase()]: operation(route, spec) };
  }
  const extra = Object.keys(OPERATIONS).filter((route) => !routes.includes(route));
  if (extra.length) throw new Error(`OpenAPI: operations without a route: ${extra.join(', ')}`);
  return out;
}

/** `webhooks`: what the gateway POSTs to a merchant's notify_url, one entry per event type. */
function webhooks(): Json {
  return Object.fromEntries(
    EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          summary: `The ${type} notification`,
          parameters: [
            { name: 'X-Event-Id', in: 'header', required: true, schema: { type: 'string' } },
            {
              name: 'X-Signature',
              in: 'header',
              required: true,
              description: '`t=<unix seconds>,v1=<hex HMAC-SHA256(merchant_secret, t + "." + raw body)>`',
              schema: { type: 'string' },
            },
          ],
          requestBody: {
            required: true,
            content: jsonContent({
              allOf: [ref('Notification')],
              properties: { type: { const: type }, data: ref(type.startsWith('payment.') ? 'Payment' : 'Refund') },
            }),
          },
          responses: {
            '2XX': { description: 'Acknowledged (within 10 s); anything else is retried on the schedule.' },
          },
        },
      },
    ]),
  );
}

const header = (description: string, schema: Json = { type: 'integer' }) => ({ description, schema });

/** Builds the document (pure; the same on every call). */
export function buildOpenApiDocument(): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Payment gateway API',
      version: '1',
      description:
        'The merchant API of docs/API.md. Amounts are decimal strings in major units; errors use the envelope ' +
        '`{"error": {"code", "message", "request_id", "details"}}`; an unknown route is `404 NOT_FOUND`, a known ' +
        'path with another method `405 METHOD_NOT_ALLOWED`.',
    },
    servers: [{ url: 'http://127.0.0.1:3000', description: 'Local stack (`npm start`)' }],
    security: [{ MerchantId: [], Timestamp: [], Nonce: [], Signature: [] }],
    paths: paths(),
    webhooks: webhooks(),
    components: {
      schemas: { ...componentSchemas(requests, 'input'), ...componentSchemas(responses, 'output') },
      responses: Object.fromEntries(ERROR_STATUSES.map((status) => [`Error${status}`, errorResponse(status)])),
      parameters: {
        'Idempotency-Key': {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'Kept 24 h; a repeat with identical parameters returns the original (`Idempotent-Replayed`).',
          schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
        },
      },
      headers: {
        'X-Request-Id': header('The request id (also in error bodies).', { type: 'string' }),
        'Idempotent-Replayed': header('`true` when the answer replays an earlier request.', { const: 'true' }),
        'X-RateLimit-Limit': header('Requests allowed in the current window.'),
        'X-RateLimit-Remaining': header('Requests left in the current window.'),
        'X-RateLimit-Reset': header('When the window resets (epoch seconds).'),
        'Retry-After': header('Seconds to wait before retrying.'),
      },
      securitySchemes: {
        MerchantId: { type: 'apiKey', in: 'header', name: 'X-Merchant-Id', description: 'The merchant id.' },
        Timestamp: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Timestamp',
          description: 'Unix seconds; |now − ts| ≤ 300 s.',
        },
        Nonce: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Nonce',
          description: '16–64 of [A-Za-z0-9_-], accepted once per merchant within 10 minutes.',
        },
        Signature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Signature',
          description:
            'Lowercase hex HMAC-SHA256(merchant_secret, METHOD + "\\n" + PATH_AND_QUERY + "\\n" + X-Timestamp + ' +
            '"\\n" + X-Nonce + "\\n" + hex(SHA-256(raw body))).',
        },
      },
    },
  };
}
