import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setMerchantRateLimit, setMerchantStatus } from '#app/merchant-admin.ts';
import { type ApiResponse, MerchantClient } from '../../local/merchant-client.ts';
import { startHttpStack } from '../support/http-stack.ts';

type ErrorBody = { error: { code: string; message: string; request_id: string; details?: Record<string, unknown> } };

let stack: Awaited<ReturnType<typeof startHttpStack>>;
beforeAll(async () => {
  stack = await startHttpStack();
});
afterAll(() => stack?.stop());

/** A merchant whose writes are limited to a bucket of `burst` that refills one token per 100 s (no refill in a test). */
async function limitedClient(burst: number) {
  const created = await stack.newClient();
  await setMerchantRateLimit(stack.container, created.merchantId, {
    routeClass: 'write',
    policy: { rate: 0.01, burst },
  });
  return created;
}

/** The test run's default buckets (generous, see `test/support/worker-env.ts`; the same for writes and reads). */
const defaults = () => stack.container.config.rateLimits;

/** A cheap authenticated write: closing a payment that does not exist (404 after authentication). */
const closeNothing = (client: MerchantClient) => client.request<ErrorBody>('POST', '/v1/payments/pay_nothing/close');

function rateHeaders(answer: ApiResponse<unknown>) {
  return {
    limit: answer.headers.get('x-ratelimit-limit'),
    remaining: answer.headers.get('x-ratelimit-remaining'),
    reset: answer.headers.get('x-ratelimit-reset'),
  };
}

describe('per-merchant rate limits over HTTP', () => {
  it('answers a merchant over its write limit 429 RATE_LIMITED with Retry-After, leaving other merchants alone', async () => {
    const { client } = await limitedClient(3);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await closeNothing(client));
    expect(answers.map((answer) => answer.status)).toEqual([404, 404, 404, 429, 429]);
    expect(answers.map((answer) => rateHeaders(answer).remaining)).toEqual(['2', '1', '0', '0', '0']);
    const limited = answers[3] as ApiResponse<ErrorBody>;
    const nowS = Date.now() / 1000;
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(100);
    // Full again when all three tokens are back: 300 s after the first request.
    const reset = Number(rateHeaders(limited).reset);
    expect(reset).toBeGreaterThan(nowS + 200);
    expect(reset).toBeLessThanOrEqual(nowS + 301);
    expect(rateHeaders(limited).limit).toBe('3');
    expect(limited.body).toEqual({
      error: {
        code: 'RATE_LIMITED',
        message: expect.any(String),
        request_id: limited.headers.get('x-request-id'),
        details: { retry_after_seconds: retryAfter },
      },
    });

    // Its reads have their own bucket (the default one).
    const read = await client.request('GET', '/v1/accounts/acct-1/balance');
    expect([read.status, rateHeaders(read).limit]).toEqual([200, String(defaults().read.burst)]);
    // Another merchant is unaffected.
    const { client: other } = await stack.newClient();
    const otherAnswer = await closeNothing(other);
    expect(otherAnswer.status).toBe(404);
    // Its bucket may already have refilled the token by the time the answer is written.
    expect(rateHeaders(otherAnswer).limit).toBe(String(defaults().write.burst));
    expect(Number(rateHeaders(otherAnswer).remaining)).toBeGreaterThanOrEqual(defaults().write.burst - 1);
  });

  it('lets no unauthenticated or refused caller drain a merchant bucket: 401 and 403 carry no rate headers', async () => {
    const { client, merchantId } = await limitedClient(2);
    const forger = new MerchantClient({ apiBase: stack.apiBase, merchantId, merchantSecret: 'sk_wrong' });
    for (let i = 0; i < 5; i++) {
      const answer = await closeNothing(forger);
      expect([answer.status, answer.body.error.code]).toEqual([401, 'AUTH_INVALID_SIGNATURE']);
      expect(rateHeaders(answer)).toEqual({ limit: null, remaining: null, reset: null });
    }
    // A replayed nonce is validly signed, and still refused before the limiter.
    const first = await client.request('GET', '/v1/accounts/acct-1/balance', undefined, {
      nonce: 'replayed-nonce-0001',
    });
    expect(first.status).toBe(200);
    const replayed = await client.request<ErrorBody>('POST', '/v1/payments/pay_nothing/close', undefined, {
      nonce: 'replayed-nonce-0001',
    });
    expect([replayed.status, replayed.body.error.code]).toEqual([401, 'AUTH_NONCE_REPLAYED']);
    await setMerchantStatus(stack.container, merchantId, 'DISABLED');
    const disabled = await closeNothing(client);
    expect([disabled.status, disabled.body.error.code]).toEqual([403, 'MERCHANT_DISABLED']);
    expect(rateHeaders(disabled).limit).toBeNull();
    await setMerchantStatus(stack.container, merchantId, 'ACTIVE');

    const answers = [await closeNothing(client), await closeNothing(client), await closeNothing(client)];
    expect(answers.map((answer) => [answer.status, rateHeaders(answer).remaining])).toEqual([
      [404, '1'],
      [404, '0'],
      [429, '0'],
    ]);
  });

  it('puts the X-RateLimit headers on every authenticated answer, errors included', async () => {
    const { client } = await stack.newClient();
    const answers = [
      await client.request('GET', '/v1/accounts/acct-1/balance'),
      await client.request('GET', '/v1/payments/pay_nothing'),
      await client.request('POST', '/v1/payments', { amount: 'x' }),
      await client.request('POST', '/v1/payments', undefined, {
        rawBody: '{"a":1}',
        headers: { 'content-type': 'text/plain' },
      }),
      await client.request('POST', '/v1/refunds', undefined, { rawBody: '{' }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 404, 400, 415, 400]);
    for (const answer of answers) {
      const { limit, remaining, reset } = rateHeaders(answer);
      expect(Number(limit)).toBe(defaults().write.burst);
      expect(Number(remaining)).toBeGreaterThanOrEqual(defaults().write.burst - 10);
      expect(Number(reset)).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 60);
    }
  });
});
