import { describe, expect, it } from 'vitest';
import { bucketDeadline, expiryBucket } from '#domain/expiry.ts';
import { isAcknowledged, notificationBody, retryWindows } from '#domain/notification.ts';
import { signNotification } from '#domain/signing.ts';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from '#shared/retry-schedule.ts';
import { verifyNotificationSignature } from '../../local/webhook-receiver.ts';

describe('retry schedule', () => {
  it('defaults to the contract schedule of about 25 hours', () => {
    expect(parseRetrySchedule(undefined)).toEqual([1, 5, 30, 120, 600, 1800, 3600, 7200, 21600, 54000]);
    const total = DEFAULT_RETRY_SCHEDULE_SECONDS.reduce((sum, s) => sum + s, 0);
    expect(total / 3600).toBeGreaterThan(24);
    expect(total / 3600).toBeLessThan(26);
  });

  it('reads a configured schedule and rejects a malformed one', () => {
    expect(parseRetrySchedule('0, 1,2')).toEqual([0, 1, 2]);
    expect(() => parseRetrySchedule('1,a')).toThrow(/invalid retry schedule/);
    expect(() => parseRetrySchedule('1,-5')).toThrow(/invalid retry schedule/);
    expect(() => parseRetrySchedule('1.5')).toThrow(/invalid retry schedule/);
  });

  it('turns each delay into a ±20 % window of whole seconds that is never empty', () => {
    const { mins, maxs } = retryWindows([1, 5, 30, 54000], 0.2);
    expect(mins).toEqual([1, 4, 24, 43200]);
    expect(maxs).toEqual([2, 6, 36, 64800]);
    for (const [i, min] of mins.entries()) expect(maxs[i]).toBeGreaterThan(min);
    expect(() => retryWindows([1], 1)).toThrow(/jitter/);
  });

  it('never retries sooner than schedule × (1 − jitter), nor sooner than 1 s', () => {
    for (const jitter of [0, 0.2, 0.5, 0.9]) {
      const schedule = [0, 1, 2, 3, 7, 10, 59, 601];
      const { mins } = retryWindows(schedule, jitter);
      for (const [i, seconds] of schedule.entries()) {
        expect(mins[i]).toBeGreaterThanOrEqual(Math.max(1, seconds * (1 - jitter)));
      }
    }
  });
});

describe('notification delivery rules', () => {
  it('acknowledges any 2xx and nothing else', () => {
    expect([200, 201, 204, 299].every(isAcknowledged)).toBe(true);
    expect([undefined, 199, 300, 302, 404, 500].some(isAcknowledged)).toBe(false);
  });

  it('signs the exact body the merchant receives, verifiable with the merchant secret', () => {
    const body = notificationBody({
      id: 'evt_1',
      type: 'payment.succeeded',
      merchantId: 'm',
      createdAt: '2026-11-22T10:00:00.000Z',
      data: { id: 'pay_1' },
    });
    expect(JSON.parse(body)).toEqual({
      id: 'evt_1',
      type: 'payment.succeeded',
      created_at: '2026-11-22T10:00:00.000Z',
      data: { id: 'pay_1' },
    });
    const now = 1_764_000_000_000;
    const header = signNotification('sk_test', now / 1000, body);
    expect(verifyNotificationSignature('sk_test', header, body, now)).toBe(true);
    expect(verifyNotificationSignature('sk_other', header, body, now)).toBe(false);
    expect(verifyNotificationSignature('sk_test', header, `${body} `, now)).toBe(false);
    expect(verifyNotificationSignature('sk_test', header, body, now + 301_000)).toBe(false);
  });
});

describe('expiry buckets', () => {
  it('groups orders by the minute they expire and fires after that minute', () => {
    expect(expiryBucket('2026-11-22T10:30:59.999Z')).toBe('2026-11-22T10:30');
    expect(bucketDeadline('2026-11-22T10:30')).toBe('2026-11-22T10:31:00.000Z');
    expect(bucketDeadline('2026-12-31T23:59')).toBe('2027-01-01T00:00:00.000Z');
  });
});
