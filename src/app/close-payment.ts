import type {
  IdempotencyClaim,
  IdempotencyRepository,
  PaymentChannel,
  PaymentRepository,
  TransactionStore,
} from '#app/ports.ts';
import type { Merchant } from '#domain/merchant.ts';
import { assertClosable, type Channel, type Payment } from '#domain/payment.ts';
import { isHeld, type RiskReview } from '#domain/risk.ts';
import { counterChanges } from '#domain/risk-limits.ts';
import type { IdPrefix } from '#shared/ids.ts';
import { type ApplyResultDeps, applyPaymentResult } from './apply-payment-result.ts';
import { auditRecord, merchantActor } from './audit.ts';
import { paymentEvent } from './events.ts';
import { createOrReplay, earlierResourceId } from './idempotency-key.ts';
import { getPayment } from './payment-queries.ts';
import { currentRequestContext } from './request-context.ts';
import { requestHash } from './request-hash.ts';
import { untilNotStale } from './stale-retry.ts';

export interface ClosePaymentDeps extends ApplyResultDeps {
  store: TransactionStore;
  payments: PaymentRepository;
  idempotency: IdempotencyRepository;
  channels: ReadonlyMap<Channel, PaymentChannel>;
  clock: () => Date;
  newId: (prefix: IdPrefix) => string;
}

/**
 * Closes a merchant's `PENDING` payment.
 *
 * 1. Read the payment (404 if it is not this merchant's); a repeated `Idempotency-Key` replays the earlier close,
 *    also when it committed while this request was deciding ({@link createOrReplay}).
 * 2. Only `PENDING` closes (`409 INVALID_STATE`).
 * 3. Close the order at the channel first, so it can no longer be paid there; if the payer paid first, that success
 *    is applied (never dropped) and the close is refused.
 * 4. ONE transaction: `CLOSED` + `payment.closed` event + key claim, conditional on the version read.
 */
export async function closePayment(
  deps: ClosePaymentDeps,
  merchant: Merchant,
  paymentId: string,
  idempotencyKey?: string,
): Promise<{ payment: Payment; replayed: boolean }> {
  const hash = requestHash({ operation: 'payment.close', paymentId });
  const findEarlier = async () => {
    const closedId = await earlierResourceId(deps.idempotency, merchant.id, idempotencyKey, undefined, hash, {});
    return closedId ? { payment: await getPayment(deps, merchant, closedId), replayed: true } : undefined;
  };
  return createOrReplay(findEarlier, async () => {
    const payment = await getPayment(deps, merchant, paymentId);
    assertClosable(payment, deps.clock());
    const claim = idempotencyKey
      ? { merchantId: merchant.id, key: idempotencyKey, requestHash: hash, resourceId: payment.id }
      : undefined;
    const outcome = await closeAtChannelAndCommit(deps, payment, { idempotency: claim, closedBy: merchant.id });
    // Paid at the channel first, or moved by a racing writer: the close is refused with the payment's real state.
    if (outcome.kind !== 'closed') assertClosable(outcome.payment, deps.clock());
    return { payment: outcome.payment, replayed: false };
  });
}

/**
 * Closes an open payment at its channel and then in the gateway, giving back the limits and channel volume it
 * reserved in the same transaction. Shared by the merchant's close, the expiry timer and a review's rejection. If the
 * channel reports the order paid, the success is applied instead and `paid` is returned. A held payment was never
 * registered at its channel: there is nothing to close there.
 */
export async function closeAtChannelAndCommit(
  deps: ClosePaymentDeps,
  payment: Payment,
  options: { idempotency?: IdempotencyClaim; closedBy?: string; reject?: { note?: string } } = {},
): Promise<{ kind: 'closed' | 'paid' | 'moved'; payment: Payment }> {
  const { idempotency, closedBy, reject } = options;
  const held = isHeld(payment.risk);
  const channel = held ? undefined : deps.channels.get(payment.channel);
  if (channel && (await channel.closePayment(payment)) === 'paid') {
    const result = await channel.queryPayment(payment);
    if (result) {
      const applied = await applyPaymentResult(deps, result, channel.code);
      return { kind: 'paid', payment: applied.payment };
    }
  }
  return untilNotStale(async () => {
    const current = await deps.payments.get(payment.id);
    if (current?.status !== 'PENDING') return { kind: 'moved' as const, payment: current ?? payment };
    // Approved meanwhile: it is registered at its channel now, so it must be closed there first.
    if (held && !isHeld(current.risk)) {
      if (reject) return { kind: 'moved' as const, payment: current };
      return closeAtChannelAndCommit(deps, current, options);
    }
    const now = deps.clock();
    const at = now.toISOString();
    const closed: Payment = {
      ...current,
      status: 'CLOSED',
      updatedAt: at,
      version: current.version + 1,
      ...(reject && current.risk
        ? { risk: { ...current.risk, review: reviewDecision('REJECTED', at, reject.note) } }
        : {}),
    };
    // A racing writer (a success callback, another close) makes this stale: re-read and answer from the new state.
    await deps.store.commit({
      payments: [{ payment: closed, expectedVersion: current.version }],
      events: [paymentEvent(deps.newId('evt'), 'payment.closed', closed, now)],
      counters: counterChanges(current, closed),
      idempotency,
      // A merchant's close and an operator's rejection are manual state changes: audited. The timer's is routine.
      ...(closedBy || reject
        ? {
            audit: [
              auditRecord(deps, {
                ...(closedBy ? { actor: merchantActor(closedBy) } : {}),
                action: reject ? 'risk.review_rejected' : 'payment.closed',
                merchantId: current.merchantId,
                resource: { type: 'payment', id: closed.id },
                before: { status: current.status, review: current.risk?.review?.status ?? null },
                after: { status: closed.status, review: closed.risk?.review?.status ?? null },
              }),
            ],
          }
        : {}),
    });
    return { kind: 'closed' as const, payment: closed };
  });
}

/** A review's decision, by the operator of the current request. */
export function reviewDecision(status: 'APPROVED' | 'REJECTED', at: string, note: string | undefined): RiskReview {
  const by = currentRequestContext().actor?.id ?? 'unknown';
  return { status, decidedAt: at, decidedBy: by, ...(note ? { note } : {}) };
}
