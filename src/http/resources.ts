import { formatAmount } from '#domain/money.ts';
import type { DeliveryAttempt, StoredEvent } from '#domain/notification.ts';
import { type Payment, type RoutingAttempt, visibleStatus } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import type { LedgerEntry, Wallet } from '#domain/wallet.ts';
import type * as z from '#shared/zod.ts';
import type {
  balanceSchema,
  eventSchema,
  eventSummarySchema,
  ledgerEntrySchema,
  paymentSchema,
  refundSchema,
} from './schemas.ts';

/** The contract's `payment` object. */
export function paymentResource(payment: Payment, now: Date): z.output<typeof paymentSchema> {
  return {
    id: payment.id,
    object: 'payment' as const,
    order_no: payment.orderNo,
    status: visibleStatus(payment, now),
    amount: formatAmount(payment.amountMinor, payment.currency),
    currency: payment.currency,
    subject: payment.subject,
    description: payment.description ?? null,
    channel: payment.channel,
    method: payment.method,
    pay_url: payment.payUrl ?? null,
    qr_code: payment.qrCode ?? null,
    client_params: payment.clientParams ?? null,
    account_id: payment.accountId ?? null,
    payer_account_id: payment.payerAccountId ?? null,
    refunded_amount: formatAmount(payment.refundedMinor, payment.currency),
    late: payment.late,
    notify_url: payment.notifyUrl ?? null,
    return_url: payment.returnUrl ?? null,
    expires_at: payment.expiresAt,
    created_at: payment.createdAt,
    paid_at: payment.paidAt ?? null,
    channel_trade_no: payment.channelTradeNo ?? null,
    metadata: payment.metadata,
    risk: riskResource(payment),
    // Additive: shown only when routing left a channel before the one that took the payment.
    ...(payment.routingAttempts?.length
      ? { routing_attempts: payment.routingAttempts.map(routingAttemptResource) }
      : {}),
  };
}

/**
 * `payment.risk`: the score, ALLOW or REVIEW, and the ids of the rules that fired (never thresholds). `review` is the
 * state of a held payment's review (`PENDING` until an operator decides), null when it was not held.
 */
function riskResource(payment: Payment) {
  const risk = payment.risk;
  return {
    score: risk?.score ?? 0,
    decision: risk?.decision ?? 'ALLOW',
    rules: risk?.rules ?? [],
    review: risk?.review?.status ?? null,
  };
}

/** One channel a routed payment was tried at and left (`payment.routing_attempts`). */
function routingAttemptResource(attempt: RoutingAttempt) {
  return {
    channel: attempt.channel,
    outcome: attempt.outcome,
    reason: attempt.reason,
    latency_ms: attempt.latencyMs,
  };
}

/** The contract's list object: one page, newest first, and the cursor of the next (`null` on the last page). */
export function listResource<T, R>(page: { items: T[]; nextCursor?: string }, view: (item: T) => R) {
  return {
    object: 'list' as const,
    data: page.items.map(view),
    has_more: page.nextCursor !== undefined,
    next_cursor: page.nextCursor ?? null,
  };
}

/** The contract's `balance` object. */
export function balanceResource(wallet: Wallet): z.output<typeof balanceSchema> {
  return {
    object: 'balance' as const,
    account_id: wallet.accountId,
    currency: wallet.currency,
    available: formatAmount(wallet.availableMinor, wallet.currency),
    frozen: formatAmount(wallet.frozenMinor, wallet.currency),
    updated_at: wallet.updatedAt ?? null,
  };
}

/** The contract's ledger entry object. */
export function ledgerResource(entry: LedgerEntry): z.output<typeof ledgerEntrySchema> {
  return {
    id: entry.id,
    object: 'ledger_entry' as const,
    type: entry.type,
    amount: formatAmount(entry.amountMinor, entry.currency),
    currency: entry.currency,
    available_after: formatAmount(entry.availableAfterMinor, entry.currency),
    frozen_after: formatAmount(entry.frozenAfterMinor, entry.currency),
    payment_id: entry.paymentId ?? null,
    refund_id: entry.refundId ?? null,
    created_at: entry.createdAt,
  };
}

/** The contract's `refund` object. */
export function refundResource(refund: Refund): z.output<typeof refundSchema> {
  return {
    id: refund.id,
    object: 'refund' as const,
    payment_id: refund.paymentId,
    refund_no: refund.refundNo,
    status: refund.status,
    amount: formatAmount(refund.amountMinor, refund.currency),
    currency: refund.currency,
    reason: refund.reason ?? null,
    channel: refund.channel,
    destination: refund.destination ?? 'ORIGINAL',
    account_id: refund.accountId ?? null,
    channel_refund_no: refund.channelRefundNo ?? null,
    created_at: refund.createdAt,
    completed_at: refund.completedAt ?? null,
  };
}

/** An event as listed by `GET /v1/events`: its delivery state without the attempts (`GET /v1/events/{id}` has them). */
export function eventSummaryResource(event: StoredEvent): z.output<typeof eventSummarySchema> {
  return {
    id: event.id,
    object: 'event' as const,
    type: event.type,
    created_at: event.createdAt,
    data: event.data,
    delivery: {
      status: event.deliveryStatus,
      notify_url: event.notifyUrl ?? null,
      delivered_at: event.deliveredAt ?? null,
      attempt_count: event.attempts ?? 0,
    },
  };
}

/**
 * The contract's event object, with its delivery state and one page of attempts (the latest, oldest first);
 * `attempt_count` is the total and `attempts_next_cursor` pages to older ones.
 */
export function eventResource(
  event: StoredEvent,
  attempts: DeliveryAttempt[],
  olderCursor?: string,
): z.output<typeof eventSchema> {
  const summary = eventSummaryResource(event);
  return {
    ...summary,
    delivery: {
      ...summary.delivery,
      attempts: attempts.map((attempt) => ({
        at: attempt.at,
        trigger: attempt.trigger,
        http_status: attempt.httpStatus ?? null,
        error: attempt.error ?? null,
        latency_ms: attempt.latencyMs,
      })),
      attempts_has_more: olderCursor !== undefined,
      attempts_next_cursor: olderCursor ?? null,
    },
  };
}
