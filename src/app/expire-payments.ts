import { isReservationEntry } from '#domain/daily-volume.ts';
import { isHeld } from '#domain/risk.ts';
import { logger } from '#shared/observability.ts';
import { applyPaymentResult } from './apply-payment-result.ts';
import { closeAtChannelAndCommit } from './close-payment.ts';
import { postponePayment, type StatusSyncDeps, syncPendingPayment, syncRefund } from './status-sync.ts';
import { sweepVolumeReservation } from './volume-sweep.ts';

/** The minute timer's dependencies: expiry and status sync share them. */
export type ExpiryDeps = StatusSyncDeps;

/** Payments handled per task invocation; the state machine loops with the cursor for larger buckets. */
const PAGE_SIZE = 100;

/**
 * The `order-expiry` task — the minute timer: settles one page of what its minute bucket holds.
 *
 * For each entry of the bucket (the sparse GSI3 holds only `PENDING` payments, `PROCESSING` refunds and unconfirmed
 * daily-volume reservations):
 * 1. A refund (`ref_…`) gets its status sync (`syncRefund`): asked at the channel, resubmitted, or postponed; a
 *    reservation (`vol_…`) no creating transaction confirmed is given back (`sweepVolumeReservation`).
 * 2. A payment not yet expired whose early ask is due gets its status sync (`syncPendingPayment`): settled if the
 *    channel has it paid or failed, otherwise moved to its next bucket.
 * 3. A payment is expired: skipped if no longer `PENDING` or not yet due; otherwise the channel is asked first (a
 *    payment the payer completed must become `SUCCEEDED`, never `CLOSED`), then it is closed at the channel and in
 *    the gateway. If the channel cannot be reached, the payment is postponed to a later minute (`postponePayment`)
 *    instead of failing the page, so one channel outage cannot hold up the rest of the bucket.
 */
export async function expireBucket(
  deps: ExpiryDeps,
  bucket: string,
  cursor?: string,
): Promise<{
  done: boolean;
  cursor?: string;
  closed: number;
  succeeded: number;
  synced: number;
  postponed: number;
  released: number;
}> {
  const page = await deps.expiryIndex.listPending(bucket, PAGE_SIZE, cursor);
  const counts = { closed: 0, succeeded: 0, synced: 0, postponed: 0, released: 0 };
  for (const id of page.paymentIds) {
    const outcome = id.startsWith('ref_')
      ? await syncRefund(deps, id)
      : isReservationEntry(id)
        ? await sweepVolumeReservation(deps, id)
        : await expireOrPostpone(deps, id);
    if (outcome === 'closed') counts.closed++;
    if (outcome === 'succeeded') counts.succeeded++;
    if (outcome === 'settled') counts.synced++;
    if (outcome === 'postponed') counts.postponed++;
    if (outcome === 'released') counts.released++;
  }
  logger.info('expiry bucket page', { bucket, ...counts, more: page.cursor !== undefined });
  return page.cursor ? { done: false, cursor: page.cursor, ...counts } : { done: true, ...counts };
}

async function expireOrPostpone(deps: ExpiryDeps, paymentId: string) {
  try {
    return await expirePayment(deps, paymentId);
  } catch (error) {
    logger.warn('payment expiry failed; asking again later', { payment_id: paymentId, error: String(error) });
    const payment = await deps.payments.get(paymentId);
    if (payment?.status !== 'PENDING') return 'skipped';
    await postponePayment(deps, payment);
    return 'postponed';
  }
}

/** Expires one payment if it is still open and due — or, before its expiry, gives it its early status sync. */
export async function expirePayment(
  deps: ExpiryDeps,
  paymentId: string,
): Promise<'closed' | 'succeeded' | 'settled' | 'postponed' | 'skipped'> {
  const payment = await deps.payments.get(paymentId);
  if (payment?.status !== 'PENDING') return 'skipped';
  const now = deps.clock().getTime();
  if (Date.parse(payment.syncAt ?? payment.expiresAt) > now) return 'skipped';
  if (now < Date.parse(payment.expiresAt)) return syncPendingPayment(deps, payment);
  // A held payment was never registered at its channel: there is nothing to ask there.
  const channel = isHeld(payment.risk) ? undefined : deps.channels.get(payment.channel);
  const paid = await channel?.queryPayment(payment);
  if (channel && paid?.status === 'SUCCEEDED') {
    // The callback was lost or is late: the channel's word settles it before we would have closed a paid order.
    await applyPaymentResult(deps, paid, channel.code);
    deps.alarms.count('ExpiredPaymentPaidAtChannel');
    return 'succeeded';
  }
  const outcome = await closeAtChannelAndCommit(deps, payment);
  if (outcome.kind === 'paid') {
    deps.alarms.count('ExpiredPaymentPaidAtChannel');
    return 'succeeded';
  }
  return outcome.kind === 'closed' ? 'closed' : 'skipped';
}
