import { describe, expect, it } from 'vitest';
import { closePayment } from '#app/close-payment.ts';
import { createPayment } from '#app/create-payment.ts';
import { getEvent, replayEvent } from '#app/notifications.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import { REPLAYS_PER_HOUR } from '#domain/notification.ts';
import { AppError } from '#shared/errors.ts';
import { findEventId } from '../support/events.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

const schema = createPaymentSchema({ allowLoopbackHttp: false });

/** A merchant with one closed payment, whose `payment.closed` event ended its first delivery run FAILED. */
async function failedEvent(clock: () => Date) {
  const container = testContainer({ clock });
  const { merchant } = await newMerchant(container);
  const body = parseInput(schema, { order_no: uniqueId('E'), amount: '1.00', subject: 'x', channel: 'SANDBOX' });
  const { payment } = await createPayment(container, merchant, body);
  await closePayment(container, merchant, payment.id);
  const eventId = String(await findEventId(container, payment.id));
  await container.events.markFailed(eventId, clock().toISOString());
  return { container, merchant, eventId };
}

const codeOf = (error: unknown) => (error instanceof AppError ? error.code : String(error));

describe('event replays and attempt history (DynamoDB Local)', () => {
  it('lets exactly one of many concurrent replays start a run; the others get 409 INVALID_STATE', async () => {
    const { container, merchant, eventId } = await failedEvent(() => new Date());
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, () => replayEvent(container, merchant, eventId)),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(codeOf(o.reason)).toBe('INVALID_STATE');
    expect((await container.events.get(eventId))?.replayCount).toBe(1);
  });

  it(`allows ${REPLAYS_PER_HOUR} replays an hour, then RATE_LIMITED until the window ends`, async () => {
    let now = new Date('2026-12-01T10:00:00.000Z');
    const { container, merchant, eventId } = await failedEvent(() => now);
    for (let i = 0; i < REPLAYS_PER_HOUR; i++) {
      await container.events.markFailed(eventId, now.toISOString());
      await replayEvent(container, merchant, eventId);
      now = new Date(now.getTime() + 60_000);
    }
    await container.events.markFailed(eventId, now.toISOString());
    const limited = await replayEvent(container, merchant, eventId).catch((error: unknown) => error);
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', httpStatus: 429, retryAfterSeconds: 55 * 60 });
    expect((await container.events.get(eventId))?.deliveryStatus).toBe('FAILED'); // the refusal changed nothing

    now = new Date('2026-12-01T11:00:00.000Z');
    await replayEvent(container, merchant, eventId);
    expect((await container.events.get(eventId))?.replayCount).toBe(1);
  });

  it('reads attempts a bounded page at a time, latest first, with a cursor to older ones', async () => {
    const { container, merchant, eventId } = await failedEvent(() => new Date());
    const at = (i: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, i)).toISOString();
    for (let i = 0; i < 7; i++) {
      await container.events.recordAttempt(
        { eventId, at: at(i), trigger: 'retry', httpStatus: 500 + i, latencyMs: 1 },
        false,
      );
    }
    const first = await getEvent(container, merchant, eventId, { limit: 3 });
    expect(first.attempts.map((a) => a.httpStatus)).toEqual([504, 505, 506]);
    const second = await getEvent(container, merchant, eventId, { limit: 3, cursor: first.cursor });
    expect(second.attempts.map((a) => a.httpStatus)).toEqual([501, 502, 503]);
    const last = await getEvent(container, merchant, eventId, { limit: 3, cursor: second.cursor });
    expect(last.attempts.map((a) => a.httpStatus)).toEqual([500]);
    expect(last.cursor).toBeUndefined();
    expect(last.event.attempts).toBe(7);

    const forged = Buffer.from(JSON.stringify({ PK: 'EVENT#evt_other', SK: 'ATTEMPT#x' })).toString('base64url');
    for (const cursor of [forged, 'not-a-cursor']) {
      await expect(getEvent(container, merchant, eventId, { cursor })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    }
  });
});
