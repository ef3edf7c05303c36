import type {
  AlarmMetrics,
  EventRepository,
  MerchantRepository,
  NotificationQueues,
  Notifier,
  SecretCipher,
  Workflows,
} from '#app/ports.ts';
import type { Merchant } from '#domain/merchant.ts';
import {
  type DeliveryTrigger,
  isAcknowledged,
  notificationBody,
  retryWindows,
  type StoredEvent,
} from '#domain/notification.ts';
import { signNotification } from '#domain/signing.ts';
import { NotFoundError } from '#shared/errors.ts';

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

/** A merchant's event with its delivery attempts (another merchant's is a 404). */
export async function getEvent(
  deps: Pick<NotificationDeps, 'events'>,
  merchant: Merchant,
  eventId: string,
): Promise<{ event: StoredEvent; attempts: Awaited<ReturnType<EventRepository['listAttempts']>> }> {
  const event = await deps.events.get(eventId);
  if (!event || event.merchantId !== merchant.id) throw new NotFoundError(`event ${eventId} not found`);
  return { event, attempts: await deps.events.listAttempts(eventId) };
}

/** Queues a new delivery of an event (a `FAILED` one becomes `PENDING` again); merchants dedupe by event id. */
export async function replayEvent(
  deps: Pick<NotificationDeps, 'events' | 'queues'>,
  merchant: Merchant,
  eventId: string,
): Promise<StoredEvent> {
  const { event } = await getEvent(deps, merchant, eventId);
  if (event.deliveryStatus === 'FAILED') await deps.events.reopen(eventId);
  await deps.queues.enqueue(eventId, 'replay');
  return { ...event, deliveryStatus: event.deliveryStatus === 'FAILED' ? 'PENDING' : event.deliveryStatus };
}
