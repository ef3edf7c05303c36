import type {
  AlarmMetrics,
  EventRepository,
  MerchantRepository,
  NotificationQueues,
  Notifier,
  SecretCipher,
  Workflows,
} from '#app/ports.ts';
import { StaleStateError } from '#app/ports.ts';
import type { Merchant } from '#domain/merchant.ts';
import {
  type DeliveryAttempt,
  type DeliveryTrigger,
  decideReplay,
  isAcknowledged,
  notificationBody,
  REPLAYS_PER_HOUR,
  retryWindows,
  type StoredEvent,
} from '#domain/notification.ts';
import { signNotification } from '#domain/signing.ts';
import { ConflictError, NotFoundError, RateLimitedError } from '#shared/errors.ts';
import { logger } from '#shared/observability.ts';
import { type AuditDeps, auditRecord, merchantActor } from './audit.ts';
import { untilNotStale } from './stale-retry.ts';

export interface NotificationDeps {
  events: EventRepository;
  merchants: MerchantRepository;
  cipher: SecretCipher;
  notifier: Notifier;
  queues: NotificationQueues;
  workflows: Workflows;
  alarms: AlarmMetrics;
  clock: () => Date;
  retrySchedule: { seconds: number[]; jitter: number };
}

/**
 * Makes ONE delivery attempt of an event to its merchant and records it.
 *
 * 1. An event already `DELIVERED` is not sent again, except on an explicit replay.
 * 2. Sign `t + "." + body` with the merchant's current secret; POST with `X-Event-Id` and `X-Signature`.
 * 3. Record the attempt (time, HTTP status or error, latency); a 2xx marks the event `DELIVERED` in the same write.
 * 4. Log it (`notification`: event, type, trigger, endpoint host, status or error, latency).
 */
export async function deliverEvent(
  deps: NotificationDeps,
  eventId: string,
  trigger: DeliveryTrigger,
): Promise<{ delivered: boolean }> {
  const event = await deps.events.get(eventId);
  if (!event) throw new NotFoundError(`event ${eventId} not found`);
  if (event.deliveryStatus === 'DELIVERED' && trigger !== 'replay') return { delivered: true };
  if (!event.notifyUrl) {
    await deps.events.markNoEndpoint(eventId);
    return { delivered: true };
  }
  const merchant = await deps.merchants.get(event.merchantId);
  if (!merchant) throw new Error(`event ${eventId} belongs to a missing merchant`);
  const secret = await deps.cipher.decrypt(merchant.secretCiphertext, { merchant_id: merchant.id });
  const body = notificationBody(event);
  const now = deps.clock();
  const outcome = await deps.notifier.post(event.notifyUrl, body, {
    'content-type': 'application/json',
    'x-event-id': event.id,
    'x-signature': signNotification(secret, Math.floor(now.getTime() / 1000), body),
  });
  const delivered = isAcknowledged(outcome.httpStatus);
  await deps.events.recordAttempt(
    {
      eventId,
      at: now.toISOString(),
      trigger,
      latencyMs: outcome.latencyMs,
      ...(outcome.httpStatus === undefined ? {} : { httpStatus: outcome.httpStatus }),
      ...(outcome.error ? { error: outcome.error } : {}),
    },
    delivered,
  );
  if (delivered) deps.alarms.count('NotificationDelivered');
  logger.info('notification', {
    event_id: event.id,
    event_type: event.type,
    merchant_id: event.merchantId,
    trigger,
    // The host only: a merchant's URL may carry a token in its path or query.
    endpoint: URL.canParse(event.notifyUrl) ? new URL(event.notifyUrl).host : 'invalid URL',
    http_status: outcome.httpStatus ?? null,
    ...(outcome.error ? { error: outcome.error } : {}),
    latency_ms: outcome.latencyMs,
    delivered,
  });
  return { delivered };
}

/**
 * The notify queue's consumer: the first attempt (or a replay) runs right here; only a failure starts a
 * `notify-retry` execution, named after the event so a duplicate SQS delivery cannot start a second schedule.
 * Most notifications therefore cost no Step Functions transition at all.
 */
export async function notifyFromQueue(
  deps: NotificationDeps,
  message: { eventId: string; trigger: DeliveryTrigger },
): Promise<void> {
  const { delivered } = await deliverEvent(deps, message.eventId, message.trigger);
  if (delivered) return;
  const { mins, maxs } = retryWindows(deps.retrySchedule.seconds, deps.retrySchedule.jitter);
  const executionName =
    message.trigger === 'replay' ? `${message.eventId}-replay-${deps.clock().getTime()}` : message.eventId;
  await deps.workflows.startNotifyRetry(executionName, {
    eventId: message.eventId,
    index: 0,
    count: mins.length,
    mins,
    maxs,
  });
}

/** The retry schedule ran out: the event is `FAILED`, parked in the dead-letter queue, and alarmed. */
export async function giveUpOnEvent(deps: NotificationDeps, eventId: string): Promise<void> {
  const event = await deps.events.get(eventId);
  if (!event) throw new NotFoundError(`event ${eventId} not found`);
  if (event.deliveryStatus === 'DELIVERED') return;
  await deps.events.markFailed(eventId, deps.clock().toISOString());
  await deps.queues.deadLetter({ ...event, deliveryStatus: 'FAILED' });
  deps.alarms.count('NotificationFailed');
}

/** At most this many attempts are read per request (the latest first); older ones are paged. */
export const ATTEMPTS_PAGE_DEFAULT = 50;

/**
 * A merchant's event (another merchant's is a 404) with one page of its delivery attempts: the latest `limit`
 * (default 50), shown oldest first, and a cursor to older ones. The total is the event's `attempts` counter.
 */
export async function getEvent(
  deps: Pick<NotificationDeps, 'events'>,
  merchant: Merchant,
  eventId: string,
  page: { limit?: number; cursor?: string } = {},
): Promise<{ event: StoredEvent; attempts: DeliveryAttempt[]; cursor?: string }> {
  const event = await merchantEvent(deps, merchant, eventId);
  const { attempts, cursor } = await deps.events.listAttempts(eventId, {
    limit: page.limit ?? ATTEMPTS_PAGE_DEFAULT,
    cursor: page.cursor,
  });
  return { event, attempts: attempts.reverse(), ...(cursor ? { cursor } : {}) };
}

/** A merchant's event; another merchant's is indistinguishable from a missing one (404). */
async function merchantEvent(deps: Pick<NotificationDeps, 'events'>, merchant: Merchant, eventId: string) {
  const event = await deps.events.get(eventId);
  if (!event || event.merchantId !== merchant.id) throw new NotFoundError(`event ${eventId} not found`);
  return event;
}

/**
 * Starts a new delivery run of an event; merchants dedupe by event id.
 *
 * 1. The merchant's event (404 otherwise).
 * 2. A run already active (`PENDING`: queued or retrying) → `409 INVALID_STATE`; more than
 *    {@link REPLAYS_PER_HOUR} replays this hour → `429 RATE_LIMITED` with `Retry-After`.
 * 3. ONE conditional write: `PENDING` + the replay window, only if the event is as read (racing replays re-decide).
 * 4. Queue the delivery; a failure there starts one retry schedule, like a first attempt.
 */
export async function replayEvent(
  deps: Pick<NotificationDeps, 'events' | 'queues' | 'clock'> & AuditDeps,
  merchant: Merchant,
  eventId: string,
): Promise<StoredEvent> {
  const claimed = await untilNotStale(async () => {
    const event = await merchantEvent(deps, merchant, eventId);
    const decision = decideReplay(event, deps.clock());
    if (decision.kind === 'busy') {
      throw new ConflictError('INVALID_STATE', 'a delivery of this event is already under way; wait for it to end');
    }
    if (decision.kind === 'limited') {
      throw new RateLimitedError(`at most ${REPLAYS_PER_HOUR} replays per event per hour`, decision.retryAfterSeconds);
    }
    const window = { start: decision.windowStart, count: decision.count };
    const audit = auditRecord(deps, {
      actor: merchantActor(merchant.id),
      action: 'event.replayed',
      merchantId: merchant.id,
      resource: { type: 'event', id: event.id },
      before: { delivery_status: event.deliveryStatus },
      after: { delivery_status: 'PENDING', replays_this_hour: window.count },
    });
    if (!(await deps.events.claimReplay(event, window, audit))) throw new StaleStateError('event moved');
    return {
      ...event,
      deliveryStatus: 'PENDING' as const,
      replayWindowStart: window.start,
      replayCount: window.count,
    };
  });
  await deps.queues.enqueue(eventId, 'replay');
  return claimed;
}
