import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expiryBucket } from '#domain/expiry.ts';
import { asksChannelEarly, MAX_SYNC_DELAY_MS, nextPaymentSyncAt } from '#domain/status-sync.ts';
import { loadConfig } from '#shared/config.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 2, 8, 0);

describe('the early status sync schedule of a PENDING payment', () => {
  it('asks first `afterMs` after creation, then on a doubling delay of at most an hour', () => {
    const expiresAt = new Date(T0 + 24 * 60 * MINUTE).toISOString();
    const at = (asks: number, now = T0) => nextPaymentSyncAt(expiresAt, new Date(now), 5 * MINUTE, asks);
    expect(at(0)).toBe(new Date(T0 + 5 * MINUTE).toISOString());
    expect(at(1)).toBe(new Date(T0 + 10 * MINUTE).toISOString());
    expect(at(2)).toBe(new Date(T0 + 20 * MINUTE).toISOString());
    expect(at(4)).toBe(new Date(T0 + 60 * MINUTE).toISOString()); // 80 min, capped
    expect(at(60)).toBe(new Date(T0 + 60 * MINUTE).toISOString());
  });

  it('never asks in or after its expiry minute: the expiry run is then the next ask (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 24 * 60 * MINUTE }),
        fc.integer({ min: 1, max: 24 * 60 * MINUTE }),
        fc.integer({ min: 1_000, max: 3_600_000 }),
        fc.integer({ min: 0, max: 40 }),
        (elapsed, left, afterMs, asks) => {
          const now = new Date(T0 + elapsed);
          const expiresAt = new Date(now.getTime() + left).toISOString();
          const next = nextPaymentSyncAt(expiresAt, now, afterMs, asks);
          const delay = Math.min(afterMs * 2 ** asks, MAX_SYNC_DELAY_MS);
          if (next === undefined) {
            expect(expiryBucket(new Date(now.getTime() + delay).toISOString()) >= expiryBucket(expiresAt)).toBe(true);
          } else {
            expect(Date.parse(next) - now.getTime()).toBe(delay);
            expect(expiryBucket(next) < expiryBucket(expiresAt)).toBe(true);
          }
        },
      ),
    );
  });

  it('asks only about a payment registered at its channel: not a held one, not a balance payment', () => {
    const review = { score: 60, decision: 'REVIEW' as const, rules: [], configVersion: 1, reservations: [] };
    expect(asksChannelEarly({ channel: 'SANDBOX' })).toBe(true);
    expect(asksChannelEarly({ channel: 'ALIPAY', risk: { ...review, review: { status: 'APPROVED' } } })).toBe(true);
    expect(asksChannelEarly({ channel: 'WECHAT_PAY', risk: { ...review, review: { status: 'PENDING' } } })).toBe(false);
    expect(asksChannelEarly({ channel: 'BALANCE' })).toBe(false);
  });

  it('reads PAYMENT_SYNC_AFTER_SECONDS (default 300 s), refusing what is not a positive whole number', () => {
    const env = { TABLE_NAME: 't', PUBLIC_BASE_URL: 'http://localhost' };
    expect(loadConfig(env).paymentSyncAfterMs).toBe(300_000);
    expect(loadConfig({ ...env, PAYMENT_SYNC_AFTER_SECONDS: '120' }).paymentSyncAfterMs).toBe(120_000);
    for (const bad of ['0', '-5', '1.5', 'soon']) {
      expect(() => loadConfig({ ...env, PAYMENT_SYNC_AFTER_SECONDS: bad })).toThrow(/PAYMENT_SYNC_AFTER_SECONDS/);
    }
  });
});
