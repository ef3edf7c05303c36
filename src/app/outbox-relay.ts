import type { NotificationQueues } from '#app/ports.ts';
import { bucketDeadline, expiryBucket } from '#domain/expiry.ts';
import { firstSyncAt } from '#domain/status-sync.ts';
import { expirePayment } from './expire-payments.ts';
import { type StatusSyncDeps, syncRefund } from './status-sync.ts';

/** What relaying an inserted item needs: the notify queue, and the expiry / status-sync timers (and their work). */
export interface RelayDeps extends StatusSyncDeps {
  queues: Pick<NotificationQueues, 'enqueue'>;
  workflows: StatusSyncDeps['workflows'];
}

/**
 * Relays one item the table stream reports as inserted — the outbox relay's work, shared by the stream consumer
 * and the automatic re-drive of its failures. Idempotent, so relaying an item twice changes nothing: an outbox event
 * is queued for its first delivery (the consumer skips an event already delivered); a new `PENDING` payment arms the
 * timer of its first status sync's minute (or its expiry's), a new `PROCESSING` refund its status-sync minute's
 * (timers are named by their minute, a second start is a no-op); every other item is ignored.
 */
export async function relayInsert(deps: RelayDeps, item: Record<string, unknown>): Promise<void> {
  if (item.entity === 'EVENT') {
    await deps.queues.enqueue(String(item.id), 'first');
  } else if (item.entity === 'PAYMENT' && item.status === 'PENDING') {
    // Normally the insert arrives long before its minute ends. If the stream lagged past that, the bucket's timer
    // may already have run (or be running) without this order: expire it directly — the close is conditional, so
    // racing the timer is harmless.
    const dueAt = String(item.syncAt ?? item.expiresAt); // its first status sync, or its expiry when it has none
    if ((await armMinute(deps, dueAt)) === 'passed') await expirePayment(deps, String(item.id));
  } else if (item.entity === 'REFUND' && item.status === 'PROCESSING' && item.GSI3PK) {
    // The status sync of a refund the channel has not settled by then (its minute timer; the same rule if late).
    if ((await armMinute(deps, firstSyncAt(String(item.createdAt)))) === 'passed') {
      await syncRefund(deps, String(item.id));
    }
  }
}

/** Arms the minute timer of `dueAt`; `passed` when that minute's timer may already have run. */
async function armMinute(deps: RelayDeps, dueAt: string): Promise<'armed' | 'passed'> {
  const bucket = expiryBucket(dueAt);
  if (deps.clock().getTime() >= Date.parse(bucketDeadline(bucket))) return 'passed';
  return deps.workflows.armExpiry(bucket);
}
