import { describe, expect, it } from 'vitest';
import { decideReplay, REPLAYS_PER_HOUR, type StoredEvent } from '#domain/notification.ts';

const NOW = new Date('2026-12-01T10:00:00.000Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
const event = (over: Partial<StoredEvent>): StoredEvent =>
  ({ id: 'evt_1', deliveryStatus: 'FAILED', attempts: 3, createdAt: minutesAgo(30), ...over }) as StoredEvent;

describe('replay decisions', () => {
  it('refuses while a delivery run is under way', () => {
    expect(decideReplay(event({ deliveryStatus: 'PENDING' }), NOW)).toEqual({ kind: 'busy' });
    expect(decideReplay(event({ deliveryStatus: 'PENDING', attempts: 0, createdAt: minutesAgo(2) }), NOW)).toEqual({
      kind: 'busy',
    });
  });

  it('lets an event stranded before its first attempt be replayed', () => {
    const stranded = event({ deliveryStatus: 'PENDING', attempts: 0, createdAt: minutesAgo(11) });
    expect(decideReplay(stranded, NOW)).toMatchObject({ kind: 'allowed', count: 1 });
  });

  it('opens a window with the first replay and counts the next ones in it', () => {
    for (const status of ['FAILED', 'DELIVERED', 'NO_ENDPOINT'] as const) {
      expect(decideReplay(event({ deliveryStatus: status }), NOW)).toEqual({
        kind: 'allowed',
        windowStart: NOW.toISOString(),
        count: 1,
      });
    }
    expect(decideReplay(event({ replayWindowStart: minutesAgo(10), replayCount: 2 }), NOW)).toEqual({
      kind: 'allowed',
      windowStart: minutesAgo(10),
      count: 3,
    });
  });

  it(`limits to ${REPLAYS_PER_HOUR} per hour and says when the window ends`, () => {
    const full = event({ replayWindowStart: minutesAgo(45), replayCount: REPLAYS_PER_HOUR });
    expect(decideReplay(full, NOW)).toEqual({ kind: 'limited', retryAfterSeconds: 15 * 60 });
  });

  it('opens a new window once the hour has passed', () => {
    const old = event({ replayWindowStart: minutesAgo(60), replayCount: REPLAYS_PER_HOUR });
    expect(decideReplay(old, NOW)).toEqual({ kind: 'allowed', windowStart: NOW.toISOString(), count: 1 });
  });
});
