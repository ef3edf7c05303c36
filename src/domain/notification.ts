import type { OutboxEvent } from '#domain/events.ts';

/** Where an event's delivery to the merchant stands. `NO_ENDPOINT`: neither the payment nor the merchant has a URL. */
export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED', 'NO_ENDPOINT'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What started a delivery attempt. */
export type DeliveryTrigger = 'first' | 'retry' | 'replay';

/** One POST to the merchant's `notify_url` and what came of it. */
export interface DeliveryAttempt {
  eventId: string;
  at: string;
  trigger: DeliveryTrigger;
  /** HTTP status, when the merchant answered at all. */
  httpStatus?: number;
  /** Transport failure (timeout, refused connection, TLS), when it did not. */
  error?: string;
  latencyMs: number;
}

/** An outbox event with its delivery state. */
export interface StoredEvent extends OutboxEvent {
  deliveryStatus: DeliveryStatus;
  attempts: number;
  deliveredAt?: string;
  failedAt?: string;
  /** The merchant's replays in the current window (see {@link decideReplay}). */
  replayWindowStart?: string;
  replayCount?: number;
}

/** A first delivery runs within seconds; a `PENDING` event never attempted after this long was stranded. */
export const STRANDED_AFTER_MS = 10 * 60 * 1000;

/**
 * An event no delivery run holds: still `PENDING`, never attempted, and older than {@link STRANDED_AFTER_MS} (its
 * relay batch ended in the failure queue). It may be replayed like a finished one.
 */
function isStranded(event: StoredEvent, now: Date): boolean {
  return event.attempts === 0 && now.getTime() - Date.parse(event.createdAt) > STRANDED_AFTER_MS;
}

/** Replays a merchant may ask for per event and per hour. */
export const REPLAYS_PER_HOUR = 5;
const REPLAY_WINDOW_MS = 60 * 60 * 1000;

export type ReplayDecision =
  | { kind: 'busy' }
  | { kind: 'limited'; retryAfterSeconds: number }
  | { kind: 'allowed'; windowStart: string; count: number };

/**
 * Whether an event may be replayed now. Only one delivery run at a time (`PENDING` means one is queued or retrying,
 * unless the event was stranded before its first attempt),
 * and at most {@link REPLAYS_PER_HOUR} replays in a fixed window that opens with the first replay.
 */
export function decideReplay(event: StoredEvent, now: Date): ReplayDecision {
  if (event.deliveryStatus === 'PENDING' && !isStranded(event, now)) return { kind: 'busy' };
  const opened = event.replayWindowStart ? Date.parse(event.replayWindowStart) : Number.NaN;
  const windowOpen = now.getTime() - opened < REPLAY_WINDOW_MS;
  if (!windowOpen) return { kind: 'allowed', windowStart: now.toISOString(), count: 1 };
  const count = event.replayCount ?? 0;
  if (count >= REPLAYS_PER_HOUR) {
    return {
      kind: 'limited',
      retryAfterSeconds: Math.max(1, Math.ceil((opened + REPLAY_WINDOW_MS - now.getTime()) / 1000)),
    };
  }
  return { kind: 'allowed', windowStart: event.replayWindowStart ?? now.toISOString(), count: count + 1 };
}

/** An acknowledgement is any 2xx answer (within the 10 s the HTTP client allows). */
export function isAcknowledged(httpStatus: number | undefined): boolean {
  return httpStatus !== undefined && httpStatus >= 200 && httpStatus < 300;
}

/**
 * The waiting window of each retry: `seconds × (1 ± jitter)` as whole seconds `[min, max)` for Step Functions'
 * `States.MathRandom` to draw from (jitter spreads a merchant's recovery thundering herd). Step Functions waits are
 * whole seconds, so the lower end is rounded UP: a retry never comes sooner than `seconds × (1 − jitter)`, and never
 * sooner than 1 s after the failed attempt.
 */
export function retryWindows(schedule: readonly number[], jitter: number): { mins: number[]; maxs: number[] } {
  if (!(jitter >= 0 && jitter < 1)) throw new Error(`jitter must be in [0, 1): ${jitter}`);
  const mins = schedule.map((seconds) => Math.max(1, Math.ceil(seconds * (1 - jitter))));
  const maxs = schedule.map((seconds, i) => Math.max((mins[i] ?? 1) + 1, Math.ceil(seconds * (1 + jitter))));
  return { mins, maxs };
}

/** The JSON body the merchant receives, exactly as signed. */
export function notificationBody(event: OutboxEvent): string {
  return JSON.stringify({ id: event.id, type: event.type, created_at: event.createdAt, data: event.data });
}
