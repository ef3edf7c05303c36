import type { ExpiryIndex } from '#app/ports.ts';
import { logger } from '#shared/observability.ts';
import { applyPaymentResult } from './apply-payment-result.ts';
import { type ClosePaymentDeps, closeAtChannelAndCommit } from './close-payment.ts';

export interface ExpiryDeps extends ClosePaymentDeps {
  expiryIndex: ExpiryIndex;
}

/** Payments handled per task invocation; the state machine loops with the cursor for larger buckets. */
const PAGE_SIZE = 100;

/**
 * The `order-expiry` task: closes one page of a minute bucket's still-pending payments.
 *
 * For each payment of the bucket (the sparse expiry index holds only `PENDING` ones):
 * 1. Skip one that is no longer `PENDING` or not yet due.
 * 2. Ask the channel first: a payment the payer completed must become `SUCCEEDED`, never `CLOSED`.
 * 3. Otherwise close it at the channel and then in the gateway (a conditional transition).
 */
export async function expireBucket(
  deps: ExpiryDeps,
  bucket: string,
  cursor?: string,
): Promise<{ done: boolean; cursor?: string; closed: number; succeeded: number }> {
  const page = await deps.expiryIndex.listPending(bucket, PAGE_SIZE, cursor);
  let closed = 0;
  let succeeded = 0;
  for (const paymentId of page.paymentIds) {
    const outcome = await expirePayment(deps, paymentId);
    if (outcome === 'closed') closed++;
    if (outcome === 'succeeded') succeeded++;
  }
  logger.info('expiry bucket page', { bucket, closed, succeeded, more: page.cursor !== undefined });
  return page.cursor ? { done: false, cursor: page.cursor, closed, succeeded } : { done: true, closed, succeeded };
}

/** Expires one payment if it is still open and due. */
export async function expirePayment(deps: ExpiryDeps, paymentId: string): Promise<'closed' | 'succeeded' | 'skipped'> {
  const payment = await deps.payments.get(paymentId);
  if (payment?.status !== 'PENDING') return 'skipped';
  if (Date.parse(payment.expiresAt) > deps.clock().getTime()) return 'skipped';
  const channel = deps.channels.get(payment.channel);
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
