import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MerchantClient } from '../../local/merchant-client.ts';
import { findEventId } from '../support/events.ts';
import { startHttpStack } from '../support/http-stack.ts';
import { eventually } from '../support/local-workflows.ts';
import { postSandboxCallback, successCallback } from '../support/sandbox.ts';

type Json = Record<string, unknown>;
type EventBody = Json & { delivery: { status: string; attempts: unknown[] }; data: Json };

let stack: Awaited<ReturnType<typeof startHttpStack>>;
let client: MerchantClient;

beforeAll(async () => {
  stack = await startHttpStack();
  ({ client } = await stack.newClient());
});
afterAll(() => stack.stop());

/** The outbox event of a payment (once the transition has committed). */
function eventOf(paymentId: string, type: string): Promise<string> {
  return eventually(() => findEventId(stack.container, paymentId, type));
}

describe('events API', () => {
  it('shows the event of a transition with its delivery state, and hides it from other merchants', async () => {
    const created = await client.request<Json>('POST', '/v1/payments', {
      order_no: `EV${Date.now()}`,
      amount: '3.00',
      subject: 'events',
      channel: 'SANDBOX',
      notify_url: 'https://merchant.example/notify',
    });
    await postSandboxCallback(stack.apiBase, successCallback(created.body as never));
    const eventId = await eventOf(String(created.body.id), 'payment.succeeded');

    const event = await client.request<EventBody>('GET', `/v1/events/${eventId}`);
    expect(event.status).toBe(200);
    expect(event.body).toMatchObject({ id: eventId, object: 'event', type: 'payment.succeeded' });
    expect(event.body.data).toMatchObject({ id: created.body.id, status: 'SUCCEEDED', amount: '3.00' });
    expect(event.body.delivery).toMatchObject({ status: 'PENDING', attempts: [] });

    const { client: stranger } = await stack.newClient();
    expect((await stranger.request('GET', `/v1/events/${eventId}`)).status).toBe(404);
    expect((await stranger.request('POST', `/v1/events/${eventId}/replay`)).status).toBe(404);
  });

  it('accepts a replay with 202 and queues a delivery', async () => {
    const created = await client.request<Json>('POST', '/v1/payments', {
      order_no: `EVR${Date.now()}`,
      amount: '4.00',
      subject: 'events',
      channel: 'SANDBOX',
    });
    await client.request('POST', `/v1/payments/${created.body.id}/close`);
    const eventId = await eventOf(String(created.body.id), 'payment.closed');
    // This stack runs no relay: the event's first delivery run is still "under way" until it is ended here.
    const busy = await client.request<{ error: { code: string } }>('POST', `/v1/events/${eventId}/replay`);
    expect([busy.status, busy.body.error.code]).toEqual([409, 'INVALID_STATE']);
    await stack.container.events.markFailed(eventId, new Date().toISOString());

    const replay = await client.request<EventBody>('POST', `/v1/events/${eventId}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ id: eventId, type: 'payment.closed', delivery: { status: 'PENDING' } });
    const again = await client.request<{ error: { code: string } }>('POST', `/v1/events/${eventId}/replay`);
    expect([again.status, again.body.error.code]).toEqual([409, 'INVALID_STATE']);
  });

  it('limits replays per event per hour: 429 RATE_LIMITED with Retry-After', async () => {
    const created = await client.request<Json>('POST', '/v1/payments', {
      order_no: `EVL${Date.now()}`,
      amount: '4.00',
      subject: 'events',
      channel: 'SANDBOX',
    });
    await client.request('POST', `/v1/payments/${created.body.id}/close`);
    const eventId = await eventOf(String(created.body.id), 'payment.closed');
    const replay = async () => {
      await stack.container.events.markFailed(eventId, new Date().toISOString());
      return client.request<{ error: { code: string } }>('POST', `/v1/events/${eventId}/replay`);
    };
    for (let i = 0; i < 5; i++) expect((await replay()).status).toBe(202);
    const limited = await replay();
    expect([limited.status, limited.body.error.code]).toEqual([429, 'RATE_LIMITED']);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    // An authenticated answer: it carries the merchant's write bucket figures too.
    expect(limited.headers.get('x-ratelimit-limit')).toBe(String(stack.container.config.rateLimits.write.burst));
    expect(Number(limited.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0);
  });

  it('answers 404 for an unknown event', async () => {
    const answer = await client.request<{ error: { code: string } }>('GET', '/v1/events/evt_nothing');
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
  });
});
