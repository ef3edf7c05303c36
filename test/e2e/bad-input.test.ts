// Over 250 lines: the table of every client-input edge case and its contract error code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setMerchantStatus } from '#app/merchant-admin.ts';
import { signMerchantRequest } from '#domain/signing.ts';
import { MerchantClient } from '../../local/merchant-client.ts';
import { startHttpStack } from '../support/http-stack.ts';
import { postSandboxCallback, successCallback } from '../support/sandbox.ts';

type Json = Record<string, unknown>;
type ErrorBody = { error: { code: string; message: string; request_id: string } };
type Payment = { id: string; order_no: string; metadata: Record<string, string> };

let stack: Awaited<ReturnType<typeof startHttpStack>>;
let client: MerchantClient;
let merchantId: string;
let secret: string;

beforeAll(async () => {
  stack = await startHttpStack();
  ({ client, merchantId, secret } = await stack.newClient());
});
afterAll(() => stack.stop());

const orderNo = () => `BAD${Math.random().toString(36).slice(2, 12)}`;
const validBody = (order_no = orderNo()) => ({
  order_no,
  amount: '10.00',
  subject: 'top-up',
  channel: 'SANDBOX',
  account_id: 'user-bad',
});

/** Asserts the order was not created: the bad request changed nothing. */
async function expectNoPayment(order: string) {
  const lookup = await client.request<ErrorBody>('GET', `/v1/payments?order_no=${order}`);
  expect(lookup.status).toBe(404);
}

describe('bad payment requests get the contract code and change nothing', () => {
  const cases: [string, (order: string) => Json | string, number, string][] = [
    ['malformed JSON', () => '{"order_no": ', 400, 'INVALID_JSON'],
    ['a JSON number amount', (o) => ({ ...validBody(o), amount: 10 }), 400, 'AMOUNT_INVALID'],
    ['too many decimals', (o) => ({ ...validBody(o), amount: '10.001' }), 400, 'AMOUNT_INVALID'],
    ['a negative amount', (o) => ({ ...validBody(o), amount: '-10.00' }), 400, 'AMOUNT_INVALID'],
    ['a zero amount', (o) => ({ ...validBody(o), amount: '0.00' }), 400, 'AMOUNT_INVALID'],
    ['an exponent amount', (o) => ({ ...validBody(o), amount: '1e3' }), 400, 'AMOUNT_INVALID'],
    ['an amount above the limit', (o) => ({ ...validBody(o), amount: '50000.01' }), 400, 'AMOUNT_INVALID'],
    ['an unknown field', (o) => ({ ...validBody(o), amout: '10.00' }), 400, 'VALIDATION_FAILED'],
    ['an unsupported currency', (o) => ({ ...validBody(o), currency: 'XYZ' }), 400, 'CURRENCY_UNSUPPORTED'],
    [
      'a non-https notify_url',
      (o) => ({ ...validBody(o), notify_url: 'http://merchant.example/n' }),
      400,
      'NOTIFY_URL_INVALID',
    ],
    ...[
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.1/',
      'https://100.64.0.1:9200/',
      'https://metadata.google.internal/',
      'https://[fd00::1]/',
    ].map((url): [string, (order: string) => Json, number, string] => [
      `the internal notify_url ${url}`,
      (o) => ({ ...validBody(o), notify_url: url }),
      400,
      'NOTIFY_URL_INVALID',
    ]),
    ['an array body', () => '[1,2,3]', 400, 'VALIDATION_FAILED'],
    ['a disabled channel', (o) => ({ ...validBody(o), channel: 'ALIPAY' }), 400, 'CHANNEL_NOT_SUPPORTED'],
  ];
  it.each(cases)('rejects %s', async (_name, makeBody, status, code) => {
    const order = orderNo();
    const body = makeBody(order);
    const answer = await client.request<ErrorBody>(
      'POST',
      '/v1/payments',
      undefined,
      typeof body === 'string' ? { rawBody: body } : { rawBody: JSON.stringify(body) },
    );
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.request_id).toBe(answer.headers.get('x-request-id'));
    await expectNoPayment(order);
  });

  it('rejects a body over 64 KiB with 413 BODY_TOO_LARGE', async () => {
    const order = orderNo();
    const answer = await client.request<ErrorBody>('POST', '/v1/payments', {
      ...validBody(order),
      description: 'x'.repeat(70 * 1024),
    });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('BODY_TOO_LARGE');
    await expectNoPayment(order);
  });
});

describe('merchant authentication', () => {
  async function rawRequest(headers: Record<string, string>, body: string) {
    const response = await fetch(`${stack.apiBase}/v1/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: response.status, body: (await response.json()) as ErrorBody };
  }

  function signedHeaders(body: string, overrides: { timestamp?: number; nonce?: string; secret?: string } = {}) {
    const timestamp = String(overrides.timestamp ?? Math.floor(Date.now() / 1000));
    const nonce = overrides.nonce ?? `nonce-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    const signature = signMerchantRequest(overrides.secret ?? secret, {
      method: 'POST',
      pathAndQuery: '/v1/payments',
      timestamp,
      nonce,
      body,
    });
    return { 'x-merchant-id': merchantId, 'x-timestamp': timestamp, 'x-nonce': nonce, 'x-signature': signature };
  }

  it('rejects missing headers with AUTH_MISSING', async () => {
    const answer = await rawRequest({}, JSON.stringify(validBody()));
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('AUTH_MISSING');
  });

  it('rejects a too-short nonce with AUTH_MISSING', async () => {
    const body = JSON.stringify(validBody());
    const answer = await rawRequest(signedHeaders(body, { nonce: 'short' }), body);
    expect(answer.body.error.code).toBe('AUTH_MISSING');
  });

  it('rejects a signature made with the wrong secret with AUTH_INVALID_SIGNATURE', async () => {
    const body = validBody();
    const answer = await rawRequest(signedHeaders(JSON.stringify(body), { secret: 'sk_wrong' }), JSON.stringify(body));
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('AUTH_INVALID_SIGNATURE');
    await expectNoPayment(body.order_no);
  });

  it('rejects a body changed after signing with AUTH_INVALID_SIGNATURE', async () => {
    const body = validBody();
    const headers = signedHeaders(JSON.stringify(body));
    const answer = await rawRequest(headers, JSON.stringify({ ...body, amount: '9999.00' }));
    expect(answer.body.error.code).toBe('AUTH_INVALID_SIGNATURE');
    await expectNoPayment(body.order_no);
  });

  it('rejects a timestamp more than 300 s old with AUTH_TIMESTAMP_SKEW', async () => {
    const body = validBody();
    const raw = JSON.stringify(body);
    const answer = await rawRequest(signedHeaders(raw, { timestamp: Math.floor(Date.now() / 1000) - 301 }), raw);
    expect(answer.body.error.code).toBe('AUTH_TIMESTAMP_SKEW');
    await expectNoPayment(body.order_no);
  });

  it('rejects a replayed nonce with AUTH_NONCE_REPLAYED', async () => {
    const body = validBody();
    const raw = JSON.stringify(body);
    const headers = signedHeaders(raw);
    expect((await rawRequest(headers, raw)).status).toBe(201);
    const replay = await rawRequest(headers, raw);
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('AUTH_NONCE_REPLAYED');
  });

  it('rejects an unknown merchant with AUTH_UNKNOWN_MERCHANT', async () => {
    const stranger = new MerchantClient({ apiBase: stack.apiBase, merchantId: 'mch_nobody', merchantSecret: 'x' });
    const answer = await stranger.request<ErrorBody>('GET', '/v1/accounts/a/balance');
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('AUTH_UNKNOWN_MERCHANT');
  });

  it('rejects a disabled merchant with 403 MERCHANT_DISABLED', async () => {
    const other = await stack.newClient();
    await setMerchantStatus(stack.container, other.merchantId, 'DISABLED');
    const answer = await other.client.request<ErrorBody>('GET', '/v1/accounts/a/balance');
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('MERCHANT_DISABLED');
  });
});

describe('routing errors', () => {
  it('answers an unknown route with 404 NOT_FOUND', async () => {
    const answer = await client.request<ErrorBody>('GET', '/v1/nothing-here');
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
  });

  it('answers a wrong method with 405 METHOD_NOT_ALLOWED', async () => {
    const answer = await client.request<ErrorBody>('DELETE', '/v1/payments');
    expect(answer.status).toBe(405);
    expect(answer.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('rejects an unknown currency on balance and ledger reads with CURRENCY_UNSUPPORTED', async () => {
    for (const path of ['/v1/accounts/u1/balance?currency=XYZ', '/v1/accounts/u1/ledger?currency=XYZ']) {
      const answer = await client.request<ErrorBody>('GET', path);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('CURRENCY_UNSUPPORTED');
    }
    const malformed = await client.request<ErrorBody>('GET', '/v1/accounts/u1/balance?currency=cny');
    expect(malformed.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('validates query parameters of the ledger', async () => {
    const answer = await client.request<ErrorBody>('GET', '/v1/accounts/u1/ledger?limit=1000');
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    const cursor = await client.request<ErrorBody>('GET', '/v1/accounts/u1/ledger?cursor=abc');
    expect(cursor.body.error.code).toBe('VALIDATION_FAILED');
  });
});

describe('sandbox callbacks that must change nothing', () => {
  async function pendingRecharge() {
    const accountId = `user-${Math.random().toString(36).slice(2, 10)}`;
    const created = await client.request<Json>('POST', '/v1/payments', { ...validBody(), account_id: accountId });
    return { payment: created.body as { id: string; amount: string; currency: string }, accountId };
  }

  async function expectUntouched(paymentId: string, accountId: string) {
    const payment = await client.request<Json>('GET', `/v1/payments/${paymentId}`);
    expect(payment.body.status).toBe('PENDING');
    const balance = await client.request<Json>('GET', `/v1/accounts/${accountId}/balance`);
    expect(balance.body.available).toBe('0.00');
  }

  it('rejects a forged signature with 401', async () => {
    const { payment, accountId } = await pendingRecharge();
    const answer = await postSandboxCallback(stack.apiBase, successCallback(payment), 'ab'.repeat(32));
    expect(answer.status).toBe(401);
    expect((answer.body as ErrorBody).error.code).toBe('CALLBACK_SIGNATURE_INVALID');
    await expectUntouched(payment.id, accountId);
  });

  it('rejects a callback whose amount disagrees with the payment', async () => {
    const { payment, accountId } = await pendingRecharge();
    const answer = await postSandboxCallback(stack.apiBase, { ...successCallback(payment), amount: '10000.00' });
    expect(answer.status).toBe(400);
    expect((answer.body as ErrorBody).error.code).toBe('AMOUNT_MISMATCH');
    await expectUntouched(payment.id, accountId);
  });

  it('rejects a callback whose currency disagrees with the payment', async () => {
    const { payment, accountId } = await pendingRecharge();
    const answer = await postSandboxCallback(stack.apiBase, { ...successCallback(payment), currency: 'USD' });
    expect((answer.body as ErrorBody).error.code).toBe('AMOUNT_MISMATCH');
    await expectUntouched(payment.id, accountId);
  });

  it('answers 404 for a callback about an unknown payment', async () => {
    const answer = await postSandboxCallback(
      stack.apiBase,
      successCallback({ id: 'pay_unknown', amount: '1.00', currency: 'CNY' }),
    );
    expect(answer.status).toBe(404);
  });

  it('rejects a malformed callback body with 400', async () => {
    const answer = await postSandboxCallback(stack.apiBase, '{"payment_id": 1');
    expect(answer.status).toBe(400);
  });
});

describe('metadata keys that name Object.prototype members', () => {
  const metadata = { constructor: 'x', toString: 'y', hasOwnProperty: 'z', prototype: 'p', valueOf: 'v' };

  it('stores and returns them exactly', async () => {
    const created = await client.request<Payment>('POST', '/v1/payments', { ...validBody(), metadata });
    expect(created.status).toBe(201);
    expect(created.body.metadata).toEqual(metadata);
    const read = await client.request<Payment>('GET', `/v1/payments/${created.body.id}`);
    expect(read.body.metadata).toEqual(metadata);
    const byOrder = await client.request<Payment>('GET', `/v1/payments?order_no=${created.body.order_no}`);
    expect(byOrder.body.metadata).toEqual(metadata);
  });

  it('stores a lone constructor key', async () => {
    const created = await client.request<Payment>('POST', '/v1/payments', {
      ...validBody(),
      metadata: { constructor: 'x' },
    });
    expect(created.status).toBe(201);
    expect(created.body.metadata).toEqual({ constructor: 'x' });
  });

  it('rejects a __proto__ key with VALIDATION_FAILED naming it, whatever its value', async () => {
    for (const value of ['"x"', '{"polluted":"yes"}']) {
      const order = orderNo();
      const raw = JSON.stringify(validBody(order)).replace(/}$/, `,"metadata":{"__proto__":${value}}}`);
      const answer = await client.request<ErrorBody>('POST', '/v1/payments', undefined, { rawBody: raw });
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
      expect(answer.body.error.message).toContain('metadata.__proto__');
      await expectNoPayment(order);
    }
    expect(({} as Json).polluted).toBeUndefined();
  });
});

/** A merchant request signed over exactly `body`'s bytes, sent with the given headers (content type included). */
async function signedFetch(
  method: string,
  pathAndQuery: string,
  body: Buffer | string = '',
  headers: Record<string, string> = body.length ? { 'content-type': 'application/json' } : {},
) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = `nonce-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const signature = signMerchantRequest(secret, { method, pathAndQuery, timestamp, nonce, body });
  const response = await fetch(`${stack.apiBase}${pathAndQuery}`, {
    method,
    headers: {
      'x-merchant-id': merchantId,
      'x-timestamp': timestamp,
      'x-nonce': nonce,
      'x-signature': signature,
      ...headers,
    },
    ...(body.length ? { body } : {}),
  });
  return { status: response.status, body: (await response.json()) as Json & ErrorBody };
}

describe('malformed percent-encoding', () => {
  it.each([
    '/v1/payments/%E0%A4%A',
    '/v1/payments/%ZZ',
    '/v1/payments/pay_1%',
    '/v1/accounts/%C3%28/balance',
    '/v1/refunds/%FF',
  ])('answers GET %s with 404 NOT_FOUND, signed or not', async (path) => {
    const signed = await signedFetch('GET', path);
    expect(signed.status).toBe(404);
    expect(signed.body.error.code).toBe('NOT_FOUND');
    const unsigned = await fetch(`${stack.apiBase}${path}`);
    expect(unsigned.status).toBe(404);
    expect(((await unsigned.json()) as ErrorBody).error.code).toBe('NOT_FOUND');
  });

  it('answers a malformed escape in a query value with 400 VALIDATION_FAILED', async () => {
    for (const path of ['/v1/payments?order_no=%E0%A4%A', '/v1/accounts/u1/ledger?limit=%E0%A4%A']) {
      const answer = await signedFetch('GET', path);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('path parameters too long to name anything', () => {
  const long = 'a'.repeat(3000);
  it.each([
    `/v1/payments/${long}`,
    `/v1/refunds/${long}`,
    `/v1/events/${long}`,
    `/sandbox/checkout/${long}`,
    `/sandbox/refunds/${long}`,
  ])('answers GET %s with 404 NOT_FOUND', async (path) => {
    const answer = await signedFetch('GET', path);
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
  });

  it('answers POST …/close and …/replay with 404 NOT_FOUND', async () => {
    for (const path of [`/v1/payments/${long}/close`, `/v1/events/${long}/replay`]) {
      const answer = await signedFetch('POST', path);
      expect(answer.status).toBe(404);
    }
  });
});

describe('the signature covers the raw body bytes', () => {
  const invalidUtf8 = Buffer.concat([Buffer.from('{"order_no":"'), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('"}')]);

  it('answers a correctly signed body that is not UTF-8 with 400 INVALID_JSON', async () => {
    const answer = await signedFetch('POST', '/v1/payments', invalidUtf8);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('INVALID_JSON');
  });

  it('rejects a signature over the decoded text of such a body', async () => {
    const decoded = invalidUtf8.toString('utf8');
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = `nonce-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    const signature = signMerchantRequest(secret, {
      method: 'POST',
      pathAndQuery: '/v1/payments',
      timestamp,
      nonce,
      body: decoded,
    });
    const response = await fetch(`${stack.apiBase}/v1/payments`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-merchant-id': merchantId,
        'x-timestamp': timestamp,
        'x-nonce': nonce,
        'x-signature': signature,
      },
      body: invalidUtf8,
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as ErrorBody).error.code).toBe('AUTH_INVALID_SIGNATURE');
  });
});

describe('query integers', () => {
  it.each(['1e2', '0x10', '10.0', ' 10', '+10', '010', '-1', '', '1_0', '10abc', '１０'])(
    'rejects ledger limit=%j with VALIDATION_FAILED',
    async (limit) => {
      const answer = await client.request<ErrorBody>(
        'GET',
        `/v1/accounts/u1/ledger?limit=${encodeURIComponent(limit)}`,
      );
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    },
  );

  it('accepts a plain limit', async () => {
    for (const limit of ['1', '10', '100']) {
      expect((await client.request('GET', `/v1/accounts/u1/ledger?limit=${limit}`)).status).toBe(200);
    }
  });
});

describe('request content types', () => {
  it.each([
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/jsonx',
    'application/json-patch+json',
    'json',
    'application/json; charset=latin1',
  ])('answers a merchant body sent as %s with 415 UNSUPPORTED_MEDIA_TYPE', async (contentType) => {
    const order = orderNo();
    const answer = await signedFetch('POST', '/v1/payments', JSON.stringify(validBody(order)), {
      'content-type': contentType,
    });
    expect(answer.status).toBe(415);
    expect(answer.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(typeof answer.body.error.request_id).toBe('string');
    await expectNoPayment(order);
  });

  it('answers a merchant body without a content type with 415', async () => {
    const order = orderNo();
    const answer = await signedFetch('POST', '/v1/payments', Buffer.from(JSON.stringify(validBody(order))), {});
    expect(answer.status).toBe(415);
    await expectNoPayment(order);
  });

  it.each([
    'application/json',
    'APPLICATION/JSON',
    'application/json; charset=utf-8',
    'Application/Json;Charset="UTF-8"',
  ])('accepts %s', async (contentType) => {
    const answer = await signedFetch('POST', '/v1/payments', JSON.stringify(validBody()), {
      'content-type': contentType,
    });
    expect(answer.status).toBe(201);
  });

  it('checks authentication before the content type', async () => {
    const answer = await fetch(`${stack.apiBase}/v1/payments`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(answer.status).toBe(401);
  });

  it('needs no content type for a POST without a body', async () => {
    const created = await client.request<Payment>('POST', '/v1/payments', validBody());
    const closed = await signedFetch('POST', `/v1/payments/${created.body.id}/close`, '', {});
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('CLOSED');
  });
});
