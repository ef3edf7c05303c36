import type { ExpiryIndex, PaymentChannel, Workflows } from '#app/ports.ts';
import { StaleStateError } from '#app/ports.ts';
import { expiryBucket } from '#domain/expiry.ts';
import type { Payment } from '#domain/payment.ts';
import type { ChannelRefundResult, Refund } from '#domain/refund.ts';
import { asksChannelEarly, firstSyncAt, isPastHorizon, nextPaymentSyncAt, nextSyncAt } from '#domain/status-sync.ts';
import { logger } from '#shared/observability.ts';
import { applyPaymentResult } from './apply-payment-result.ts';
import { type ApplyRefundDeps, applyRefundResult } from './apply-refund-result.ts';
import type { ClosePaymentDeps } from './close-payment.ts';
import type { VolumeSweepDeps } from './volume-sweep.ts';

/**
 * What the status sync needs: the expiry deps, the refunds, the timers to arm later buckets, and the channels'
 * daily volume (the same minute timer sweeps unconfirmed reservations).
 */
export interface StatusSyncDeps extends ClosePaymentDeps, ApplyRefundDeps, VolumeSweepDeps {
  expiryIndex: ExpiryIndex;
  workflows: Pick<Workflows, 'armExpiry'>;
  /** The first delay of a `PENDING` payment's early asks, ms (`PAYMENT_SYNC_AFTER_SECONDS`); it doubles after each. */
  paymentSyncAfterMs: number;
}

/** What one ask did. */
export type SyncOutcome = 'settled' | 'postponed' | 'skipped';

/**
 * The status sync of one `PROCESSING` refund whose `syncAt` has come (the minute timer's task).
 *
 * 1. Skip a refund that is no longer `PROCESSING` or not yet due.
 * 2. Ask the channel (`queryRefund`); no final answer → submit it again: the channels take the refund id as their
 *    idempotency key (`out_request_no` / `out_refund_no`), so a refund they already have is not made twice, and one
 *    they never received (the submission failed, or the process died before it) is made now.
 * 3. A final answer is applied exactly once (Confirm or Cancel, as a callback would).
 * 4. Otherwise (still processing, or the channel is down) postpone it: a later `syncAt` (doubling delay), that
 *    minute's timer armed, and `UnsettledPastHorizon` counted once it has been due for longer than the horizon.
 */
export async function syncRefund(deps: StatusSyncDeps, refundId: string): Promise<SyncOutcome> {
  const refund = await deps.refunds.get(refundId);
  if (refund?.status !== 'PROCESSING') return 'skipped';
  const dueAt = refund.syncAt ?? firstSyncAt(refund.createdAt);
  if (Date.parse(dueAt) > deps.clock().getTime()) return 'skipped';
  const channel = deps.channels.get(refund.channel);
  try {
    const result = channel ? await askOrResubmit(deps, channel, refund) : undefined;
    if (result) {
      await applyRefundResult(deps, result, refund.channel);
      return 'settled';
    }
  } catch (error) {
    logger.warn('refund status sync failed; asking again later', { refund_id: refund.id, error: String(error) });
  }
  await postponeRefund(deps, refund);
  return 'postponed';
}

/**
 * The early status sync of a `PENDING` payment whose `syncAt` has come before its expiry (the minute timer's task;
 * the caller checked both): a payment the payer paid whose callback was lost is settled now, not at its expiry.
 *
 * 1. Ask the channel (`queryPayment`) — only for a payment registered there ({@link asksChannelEarly}).
 * 2. A final answer (paid, or failed/closed there) is applied exactly once through the callback's own use case
 *    ({@link applyPaymentResult}: wallet credit, ledger, event, notification); a callback racing it changes nothing
 *    twice — the loser re-reads and finds it settled.
 * 3. Still open (or the channel is down): moved to its next bucket — the doubling delay's, or its expiry's minute
 *    once that comes first — in one conditional write (a lost race means it moved meanwhile: harmless), and that
 *    minute's timer armed.
 */
export async function syncPendingPayment(deps: StatusSyncDeps, payment: Payment): Promise<SyncOutcome> {
  const channel = asksChannelEarly(payment) ? deps.channels.get(payment.channel) : undefined;
  try {
    const result = channel ? await channel.queryPayment(payment) : undefined;
    if (channel && result) {
      const { applied } = await applyPaymentResult(deps, result, channel.code);
      if (applied) deps.alarms.count('PendingPaymentSettledBySync');
      return applied ? 'settled' : 'skipped';
    }
  } catch (error) {
    logger.warn('payment status sync failed; asking again later', { payment_id: payment.id, error: String(error) });
  }
  await moveToNextAsk(deps, payment, channel !== undefined);
  return 'postponed';
}

/** Step 3 of {@link syncPendingPayment}: the next early ask, or (none left, or none at all) its expiry's bucket. */
async function moveToNextAsk(deps: StatusSyncDeps, payment: Payment, asksChannel: boolean): Promise<void> {
  const asks = (payment.syncAttempts ?? 0) + 1;
  const syncAt = asksChannel
    ? nextPaymentSyncAt(payment.expiresAt, deps.clock(), deps.paymentSyncAfterMs, asks)
    : undefined;
  const { syncAt: _asked, syncAttempts: _asks, ...open } = payment;
  const moved: Payment = { ...open, ...(syncAt ? { syncAt, syncAttempts: asks } : {}), version: payment.version + 1 };
  if (await committed(() => deps.store.commit({ payments: [{ payment: moved, expectedVersion: payment.version }] }))) {
    await deps.workflows.armExpiry(expiryBucket(syncAt ?? payment.expiresAt));
  }
}

/**
 * Postpones a `PENDING` payment the expiry could not settle (the channel answered neither paid nor closed, or was
 * down): it moves to a later minute's timer with a doubling delay; past the horizon it counts `UnsettledPastHorizon`.
 */
export async function postponePayment(deps: StatusSyncDeps, payment: Payment): Promise<void> {
  const now = deps.clock();
  const attempts = (payment.syncAttempts ?? 0) + 1;
  const syncAt = nextSyncAt(now, attempts - 1);
  if (isPastHorizon(payment.expiresAt, now)) deps.alarms.count('UnsettledPastHorizon');
  const moved = { ...payment, syncAt, syncAttempts: attempts, version: payment.version + 1 };
  if (await committed(() => deps.store.commit({ payments: [{ payment: moved, expectedVersion: payment.version }] }))) {
    await deps.workflows.armExpiry(expiryBucket(syncAt));
  }
}

async function askOrResubmit(
  deps: StatusSyncDeps,
  channel: PaymentChannel,
  refund: Refund,
): Promise<ChannelRefundResult | undefined> {
  const answer = await channel.queryRefund(refund);
  if (answer) return answer;
  const payment = await deps.payments.get(refund.paymentId);
  if (!payment) throw new Error(`payment ${refund.paymentId} of refund ${refund.id} not found`);
  const submission = await channel.refund(refund, payment);
  return submission.status === 'PROCESSING'
    ? undefined
    : { refundId: refund.id, status: submission.status, channelRefundNo: submission.channelRefundNo };
}

async function postponeRefund(deps: StatusSyncDeps, refund: Refund): Promise<void> {
  const now = deps.clock();
  const attempts = (refund.syncAttempts ?? 0) + 1;
  const syncAt = nextSyncAt(now, attempts - 1);
  if (isPastHorizon(firstSyncAt(refund.createdAt), now)) deps.alarms.count('UnsettledPastHorizon');
  const moved = { ...refund, syncAt, syncAttempts: attempts, version: refund.version + 1 };
  if (await committed(() => deps.store.commit({ refunds: [{ refund: moved, expectedVersion: refund.version }] }))) {
    await deps.workflows.armExpiry(expiryBucket(syncAt));
  }
}

/** Runs a commit; `false` if it lost a race (the item moved meanwhile: whoever moved it settled or postponed it). */
async function committed(commit: () => Promise<void>): Promise<boolean> {
  try {
    await commit();
    return true;
  } catch (error) {
    if (error instanceof StaleStateError) return false;
    throw error;
  }
}
