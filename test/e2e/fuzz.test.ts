// Over 250 lines: the fuzz arbitraries for every route and the no-state-change checks belong together.
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMerchantRequest, signSandboxCallback } from '#domain/signing.ts';
import { FUNCTIONS } from '#routes';
import type { MerchantClient } from '../../local/merchant-client.ts';
import { TEST_SECRETS } from '../support/constants.ts';
import { startHttpStack } from '../support/http-stack.ts';
import { postSandboxCallback, successCallback } from '../support/sandbox.ts';

/**
 * Every route, unauthenticated and properly signed, gets random paths, headers and bodies. Whatever arrives, the
 * gateway answers without a 5xx, every error is the contract's envelope, and nothing answered with a 4xx changes
 * state. Bounded (RUNS_PER_ROUTE requests per route, bodies ≤ 70 KB) and free of timing assertions.
 */
const RUNS_PER_ROUTE = 60;

type Json = Record<string, unknown>;
type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

let stack: Awaited<ReturnType<typeof startHttpStack>>;
let client: MerchantClient;
let merchantId: string;
let secret: string;
/** A paid recharge (its wallet holds its amount) and a pending one: the resources fuzzed requests aim at. */
let paid: { id: string; accountId: string };
let pending: { id: string; accountId: string };
const fuzzAccount = 'fuzz-acct';

/** What the fuzz did that could change state: successful mutations and the order numbers of rejected creations. */
const successes: string[] = [];
const rejectedOrderNos = new Set<string>();
let orderCounter = 0;

async function recharge(accountId: string) {
  const created = await client.request<{ id: string; amount: string; currency: string }>('POST', '/v1/payments', {
    order_no: `FZSETUP${randomBytes(6).toString('hex')}`,
    amount: '10.00',
    subject: 'fuzz',
    channel: 'SANDBOX',
    account_id: accountId,
  });
  expect(created.status).toBe(201);
  return created.body;
}

beforeAll(async () => {
  stack = await startHttpStack();
  ({ client, merchantId, secret } = await stack.newClient());
  const paidAccount = `fuzz-paid-${randomBytes(4).toString('hex')}`;
  const paidPayment = await recharge(paidAccount);
  expect((await postSandboxCallback(stack.apiBase, successCallback(paidPayment))).status).toBe(200);
  paid = { id: paidPayment.id, accountId: paidAccount };
  const pendingAccount = `fuzz-pending-${randomBytes(4).toString('hex')}`;
  pending = { id: (await recharge(pendingAccount)).id, accountId: pendingAccount };
});
afterAll(() => stack?.stop());

/** Sends bytes exactly as given (node:http, so `..` and bad escapes are not normalised away as fetch would). */
function send(method: string, path: string, headers: Record<string, string>, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(stack.apiBase);
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers: { ...headers, 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// ---- arbitraries -------------------------------------------------------------------------------------------------

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** A path segment: ordinary, percent-escapes good and bad, dot segments, unicode, very long. */
const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,20}$/),
  fc.constantFrom('%E0%A4%A', '%ZZ', '%', '%2', '%C3%28', '%FF', '%00', '%2F', '..', '.', '%2e%2e', '', 'pay_'),
  fc.string({ unit: 'grapheme', maxLength: 8 }).map(encodeURIComponent),
  fc.string({ minLength: 1, maxLength: 12 }).map((s) => s.replace(/[^\x21-\x7e]/g, '').replace(/[?#]/g, '') || 'x'),
  fc.integer({ min: 200, max: 3000 }).map((n) => 'a'.repeat(n)),
  fc.constantFrom(...PROTO_KEYS),
);

const queryValue = fc.oneof(
  fc.constantFrom('1e2', '0x10', '10.0', '%2010', '%2B10', '010', '-1', '50', '%E0%A4%A', '', 'CNY', 'XYZ'),
  fc.string({ maxLength: 10 }).map(encodeURIComponent),
  fc.integer({ min: 0, max: 10 ** 9 }).map(String),
);
const query = fc.option(
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom('limit', 'cursor', 'currency', 'order_no', 'channel', '__proto__'), segment),
        queryValue,
      ),
      { maxLength: 4 },
    )
    .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
  { nil: '' },
);

/** JSON text with the given entries, written by hand so a `__proto__` key stays a key. */
const objectText = (entries: [string, unknown][]) =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`;

/** Replaced by a fresh order number per request, so a rejected creation can be looked up afterwards. */
const ORDER = 'FZORDERPLACEHOLDER';
const validPayment = (): Json => ({
  order_no: ORDER,
  amount: '1.00',
  subject: 'fuzz',
  channel: 'SANDBOX',
  account_id: fuzzAccount,
});

/** A payment (or refund) with one field replaced: numbers where strings go, prototype keys, nested junk. */
const mutatedPayment = fc
  .tuple(
    fc.constantFrom('order_no', 'amount', 'subject', 'currency', 'channel', 'metadata', 'account_id', 'payment_id'),
    fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.integer(),
      fc.double(),
      fc.dictionary(fc.constantFrom(...PROTO_KEYS, 'k'), fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 }))),
    ),
  )
  .map(([field, value]) => Buffer.from(JSON.stringify({ ...validPayment(), [field]: value })));

/** A valid payment whose metadata has prototype-named keys (string values: legal pairs, unless `__proto__`). */
const prototypeMetadata = fc
  .uniqueArray(fc.tuple(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 5 })), {
    minLength: 1,
    maxLength: 4,
    selector: ([key]) => key,
  })
  .map((entries) =>
    Buffer.from(`${objectText(Object.entries(validPayment())).slice(0, -1)},"metadata":${objectText(entries)}}`),
  );

const body = fc.oneof(
  { arbitrary: mutatedPayment, weight: 4 },
  { arbitrary: prototypeMetadata, weight: 4 },
  fc.constant(Buffer.alloc(0)),
  fc.json({ maxDepth: 4 }).map((text) => Buffer.from(text)),
  fc
    .array(fc.tuple(fc.constantFrom(...PROTO_KEYS), fc.jsonValue({ maxDepth: 2 })), { minLength: 1, maxLength: 4 })
    .map((entries) =>
      Buffer.from(objectText([...Object.entries(validPayment()), ['metadata', Object.fromEntries(entries)]])),
    ),
  fc
    .array(fc.tuple(fc.constantFrom(...PROTO_KEYS), fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 })
    .map((entries) => Buffer.from(objectText(entries))),
  // deep nesting, balanced or not, up to 10,000 levels
  fc
    .tuple(fc.integer({ min: 1000, max: 10_000 }), fc.constantFrom('[', '{"a":'), fc.boolean())
    .map(([depth, open, balanced]) =>
      Buffer.from(open.repeat(depth) + (balanced ? (open === '[' ? ']'.repeat(depth) : `1${'}'.repeat(depth)}`) : '')),
    ),
  // invalid UTF-8, inside a JSON string and bare
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from('{"a":"'), bytes, Buffer.from('"}')])),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(
    Buffer.from('outcome=pay'),
    Buffer.from('\uFEFF{}'),
    Buffer.from('null'),
    Buffer.from('x'.repeat(70_000)),
  ),
);

const contentType = fc.option(
  fc.oneof(
    { arbitrary: fc.constant('application/json'), weight: 10 },
    fc.constantFrom(
      'application/json',
      'APPLICATION/JSON; charset=UTF-8',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      ';;;',
      '',
    ),
    fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\t\x20-\x7e]/g, '')),
  ),
  { nil: undefined },
);

/** A header value node:http will send (no CR/LF/NUL). */
const headerValue = fc.oneof(
  fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\t\x20-\x7e]/g, '')),
  fc.constantFrom('', '1e3', '-1', '99999999999999', 'ab'.repeat(32), '0'.repeat(64), 'mch_nobody', 'z'.repeat(300)),
);

type AuthMode = 'signed' | 'none' | 'garbage' | 'tampered' | 'sandbox-signed';
const auth = fc.record({
  // mostly signed, so most requests get past authentication to the parsing and validation behind it
  mode: fc.oneof(
    { arbitrary: fc.constant<AuthMode>('signed'), weight: 5 },
    fc.constantFrom<AuthMode>('none', 'garbage', 'tampered', 'sandbox-signed'),
  ),
  garbage: fc.dictionary(fc.constantFrom('x-merchant-id', 'x-timestamp', 'x-nonce', 'x-signature'), headerValue),
  extra: fc.dictionary(
    fc.constantFrom('idempotency-key', 'x-sandbox-signature', 'x-forwarded-for', 'accept', 'x-junk'),
    headerValue,
  ),
  // one huge header at most: Node's own limit (16 KiB of headers, a 431 without our envelope) stays out of reach
  huge: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 4 },
    fc.tuple(
      fc.constantFrom('x-merchant-id', 'x-signature', 'x-nonce', 'idempotency-key', 'content-type', 'accept'),
      fc.integer({ min: 1000, max: 8000 }),
    ),
  ),
});

// ---- the property -------------------------------------------------------------------------------------------------

const ROUTES = FUNCTIONS.flatMap((spec) => spec.routes.filter((route) => route !== '$default'));

/** Real ids for a route's parameters, so signed requests reach the resources, or a fuzzed segment. */
function parameter(name: string): fc.Arbitrary<string> {
  const real: Record<string, string[]> = {
    id: [paid.id, pending.id, 'evt_unknown'],
    account_id: [paid.accountId, pending.accountId, fuzzAccount],
    channel: ['sandbox', 'alipay', 'wechat-pay'],
    // the sandbox cashier would pay a pending payment for the body `outcome=pay`: aim it at the paid one
    payment_id: [paid.id],
    refund_id: ['ref_unknown'],
    date: ['2025-11-24', '2025-02-30'],
  };
  return fc.oneof(fc.constantFrom(...(real[name] ?? ['x'])), segment);
}

function requestFor(route: string) {
  const [method = 'GET', template = '/'] = route.split(' ');
  const names = [...template.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1] ?? '');
  return fc
    .record({
      method: fc.oneof(
        fc.constant(method),
        fc.constant(method),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD'),
      ),
      params: fc.tuple(...names.map(parameter)),
      query,
      body,
      contentType,
      auth,
    })
    .map((input) => {
      let i = 0;
      const path = template.replace(/\{[a-z_]+\}/g, () => input.params[i++] ?? 'x') + input.query;
      return { ...input, path };
    });
}

type Fuzzed = ReturnType<typeof requestFor> extends fc.Arbitrary<infer T> ? T : never;

function headersFor(input: Fuzzed, body: Buffer): Record<string, string> {
  const headers: Record<string, string> = { ...input.auth.extra };
  if (input.contentType !== undefined) headers['content-type'] = input.contentType;
  const mode = input.auth.mode;
  if (mode === 'signed' || mode === 'tampered') {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString('hex');
    const signed = { method: input.method, pathAndQuery: input.path, timestamp, nonce, body };
    Object.assign(headers, {
      'x-merchant-id': merchantId,
      'x-timestamp': timestamp,
      'x-nonce': nonce,
      'x-signature': signMerchantRequest(secret, signed),
    });
    if (mode === 'tampered') Object.assign(headers, input.auth.garbage);
  } else if (mode === 'garbage') {
    Object.assign(headers, input.auth.garbage);
  } else if (mode === 'sandbox-signed') {
    headers['x-sandbox-signature'] = signSandboxCallback(TEST_SECRETS.sandboxSecret, body);
  }
  // A properly signed request keeps its auth headers and content type; the others may get the huge value anywhere.
  const [hugeName, hugeLength] = input.auth.huge ?? [];
  if (hugeName && hugeLength && !(mode === 'signed' && (hugeName.startsWith('x-') || hugeName === 'content-type'))) {
    headers[hugeName] = 'z'.repeat(hugeLength);
  }
  return headers;
}

function expectEnvelope(answer: Answer, context: string) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    throw new Error(`${context}: ${answer.status} with a body that is not JSON: ${answer.body.slice(0, 200)}`);
  }
  const error = (parsed as { error?: Json }).error;
  expect(error, `${context}: ${answer.body.slice(0, 300)}`).toMatchObject({
    code: expect.stringMatching(/^[A-Z][A-Z0-9_]*$/),
    message: expect.any(String),
    request_id: answer.headers['x-request-id'],
  });
}

describe('fuzzed requests', () => {
  it.each(ROUTES)(
    'never answer %s with a 5xx, and every error is the envelope',
    async (route) => {
      await fc.assert(
        fc.asyncProperty(requestFor(route), async (input) => {
          const order = `FZ${process.pid}x${++orderCounter}`;
          const body = Buffer.from(input.body.toString('latin1').replaceAll(ORDER, order), 'latin1');
          const answer = await send(input.method, input.path, headersFor(input, body), body);
          const context = `${input.method} ${input.path.slice(0, 200)} (${input.auth.mode}, ${input.contentType})`;
          // Channels answer their own callbacks in their own protocol; everything else speaks the contract.
          const channelAnswer = /^\/v1\/callbacks\/(alipay|wechat-pay)(\?|$)/.test(input.path);
          // Known and left open: WeChat Pay is not configured in this environment, and its callback answers "retry
          // later" (503 CHANNEL_UNAVAILABLE) whatever arrives. Every other 5xx fails the property.
          const unconfiguredChannel =
            channelAnswer && answer.status === 503 && answer.body.includes('CHANNEL_UNAVAILABLE');
          if (!unconfiguredChannel) expect(answer.status, `${context}: ${answer.body.slice(0, 300)}`).toBeLessThan(500);
          // The sandbox's payer pages answer their errors as HTML pages (a payer reads them), or the envelope.
          const payerPage =
            /^\/sandbox\/(checkout|refunds)\//.test(input.path) && /^<!doctype html>/i.test(answer.body);
          if (payerPage) expect(answer.headers['content-type'], context).toMatch(/^text\/html/);
          else if (answer.status >= 400 && input.method !== 'HEAD' && !channelAnswer) expectEnvelope(answer, context);
          if (input.method === 'POST' && answer.status < 300) successes.push(`${input.method} ${input.path}`);
          // only POST /v1/payments creates payments by order number: look those up afterwards
          const creation = input.method === 'POST' && input.path.split('?')[0] === '/v1/payments';
          if (creation && answer.status >= 400 && body.includes(order)) rejectedOrderNos.add(order);
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
    },
    120_000,
  );

  it('changed nothing it answered with a 4xx', async () => {
    const mutated = (pattern: RegExp) => successes.some((entry) => pattern.test(entry));
    const orders = [...rejectedOrderNos];
    for (let at = 0; at < orders.length; at += 10) {
      const batch = orders.slice(at, at + 10);
      const lookups = await Promise.all(
        batch.map((order) => client.request<Json>('GET', `/v1/payments?order_no=${order}`)),
      );
      for (const [i, lookup] of lookups.entries()) {
        expect(lookup.status, `order ${batch[i]} was rejected but exists`).toBe(404);
      }
    }
    expect(rejectedOrderNos.size).toBeGreaterThan(0);
    if (!mutated(/^POST \/v1\/(refunds|callbacks|sandbox)/)) {
      const balance = await client.request<Json>('GET', `/v1/accounts/${paid.accountId}/balance`);
      expect(balance.body).toMatchObject({ available: '10.00', frozen: '0.00' });
      const payment = await client.request<Json>('GET', `/v1/payments/${paid.id}`);
      expect(payment.body).toMatchObject({ status: 'SUCCEEDED', refunded_amount: '0.00' });
    }
    if (!mutated(new RegExp(`^POST /v1/payments/${pending.id}/close`)) && !mutated(/^POST \/v1\/callbacks/)) {
      const payment = await client.request<Json>('GET', `/v1/payments/${pending.id}`);
      expect(payment.body.status).toBe('PENDING');
    }
    for (const account of [pending.accountId, fuzzAccount]) {
      const balance = await client.request<Json>('GET', `/v1/accounts/${account}/balance`);
      expect(balance.body).toMatchObject({ available: '0.00', frozen: '0.00' });
    }
  }, 120_000);
});
