import type { NotificationQueues, StreamChange } from '#app/ports.ts';
import { bucketDeadline, expiryBucket } from '#domain/expiry.ts';
import { firstSyncAt } from '#domain/status-sync.ts';
import { expirePayment } from './expire-payments.ts';
import { type StatusSyncDeps, syncRefund } from './status-sync.ts';
import { sweepVolumeReservation } from './volume-sweep.ts';

/** What relaying an inserted item needs: the notify queue, and the expiry / status-sync timers (and their work). */
export interface RelayDeps extends StatusSyncDeps {
  queues: Pick<NotificationQueues, 'enqueue'>;
  workflows: StatusSyncDeps['workflows'];
}

/**
 * Relays one item the table stream reports as written — the outbox relay's work, shared by the stream consumer and
 * the automatic re-drive of its failures. Idempotent, so relaying an item twice changes nothing: an outbox event
 * is queued for its first delivery (the consumer skips an event already delivered); a new `PENDING` payment arms the
 * timer of its first status sync's minute (or its expiry's), and so does an operator's approval of a held payment
 * ({@link approvedIntoFirstAsk}: the write that put it on the sync schedule); a new `PROCESSING` refund arms its
 * status-sync minute's, and a new daily-volume reservation record its sweep minute's (timers are named by their
 * minute, a second start is a no-op); every other change is ignored.
 */
export async function relayChange(deps: RelayDeps, { kind, item }: StreamChange): Promise<void> {
  if (kind === 'INSERT' && item.entity === 'EVENT') {
    await deps.queues.enqueue(String(item.id), 'first');
  } else if (
    item.entity === 'PAYMENT' &&
    item.status === 'PENDING' &&
    (kind === 'INSERT' || approvedIntoFirstAsk(item))
  ) {
    // Normally the write arrives long before its minute ends. If the stream lagged past that, the bucket's timer
    // may already have run (or be running) without this order: expire (or ask) it directly — the close and the
    // move are conditional, so racing the timer is harmless.
    const dueAt = String(item.syncAt ?? item.expiresAt); // its first status sync, or its expiry when it has none
    if ((await armMinute(deps, dueAt)) === 'passed') await expirePayment(deps, String(item.id));
  } else if (kind === 'INSERT' && item.entity === 'VOLUME_RESERVATION') {
    // Its sweep, should no creating transaction confirm it (the process died in between; the same rule if late).
    if ((await armMinute(deps, String(item.sweepAt))) === 'passed')
      await sweepVolumeReservation(deps, String(item.GSI3SK));
  } else if (kind === 'INSERT' && item.entity === 'REFUND' && item.status === 'PROCESSING' && item.GSI3PK) {
    // The status sync of a refund the channel has not settled by then (its minute timer; the same rule if late).
    if ((await armMinute(deps, firstSyncAt(String(item.createdAt)))) === 'passed') {
      await syncRefund(deps, String(item.id));
    }
  }
}

/**
 * Whether a modified `PENDING` payment is an approved one waiting for its first early ask — what the operator's
 * approval writes (`review: APPROVED`, a `syncAt`, no asks yet). Later moves carry `syncAttempts` (and arm their own
 * minute). The deployed stream filter (`lib/gateway-workers.ts`) selects the same images.
 */
function approvedIntoFirstAsk(item: Record<string, unknown>): boolean {
  const review = (item.risk as { review?: { status?: unknown } } | undefined)?.review;
  return review?.status === 'APPROVED' && typeof item.syncAt === 'string' && item.syncAttempts === undefined;
}

/** Arms the minute timer of `dueAt`; `passed` when that minute's timer may already have run. */
async function armMinute(deps: RelayDeps, dueAt: string): Promise<'armed' | 'passed'> {
  const bucket = expiryBucket(dueAt);
  if (deps.clock().getTime() >= Date.parse(bucketDeadline(bucket))) return 'passed';
  return deps.workflows.armExpiry(bucket);
}
