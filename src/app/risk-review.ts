import { type Payment, visibleStatus } from '#domain/payment.ts';
import { isHeld } from '#domain/risk.ts';
import { asksChannelEarly, nextPaymentSyncAt } from '#domain/status-sync.ts';
import { ConflictError, NotFoundError } from '#shared/errors.ts';
import { auditRecord } from './audit.ts';
import { type ClosePaymentDeps, closeAtChannelAndCommit, reviewDecision } from './close-payment.ts';
import { settleFromBalance } from './create-payment.ts';
import type { ChangeSet, WalletRepository } from './ports.ts';
import { untilNotStale } from './stale-retry.ts';

export interface ReviewDeps extends ClosePaymentDeps {
  wallets: WalletRepository;
  /** The first delay of a `PENDING` payment's early asks, ms (`PAYMENT_SYNC_AFTER_SECONDS`). */
  paymentSyncAfterMs: number;
}

/**
 * An operator approves a held (REVIEW) payment.
 *
 * Input: the payment id and an optional note. Output: the payment, payable from now on.
 * 1. Read it: it must be held and still open (`409 INVALID_STATE` otherwise — decided, closed or expired).
 * 2. Register it at its channel now (its pay URL / QR code); a `BALANCE` payment instead settles from the payer's
 *    wallet, as its creation would have (`402 INSUFFICIENT_BALANCE` leaves it held).
 * 3. ONE transaction: the payment (conditional on its version) with `review: APPROVED`, put on the status sync's
 *    schedule — registered at its channel from now on, its first early ask is due `paymentSyncAfterMs` after the
 *    approval (`syncAt`: it moves to that minute's GSI3 bucket; none when that is not before its expiry's minute) —
 *    and the audit entry. The outbox relay arms that minute's timer when the stream reports this write, so the
 *    operator needs no Step Functions permission. If the payment moved meanwhile (closed by the merchant or the
 *    timer), the order just registered is closed at the channel again.
 */
export async function approveReview(deps: ReviewDeps, paymentId: string, note?: string): Promise<Payment> {
  const payment = await heldPayment(deps, paymentId);
  const channel = deps.channels.get(payment.channel);
  if (!channel) throw new ConflictError('INVALID_STATE', `channel ${payment.channel} is not enabled here`);
  const prepay = payment.channel === 'BALANCE' ? {} : await channel.createPayment(payment);
  try {
    return await untilNotStale(async () => {
      const current = await heldPayment(deps, paymentId);
      const now = deps.clock();
      const at = now.toISOString();
      const { syncAt: _asked, syncAttempts: _asks, ...open } = current;
      const approved: Payment = {
        ...open,
        payUrl: prepay.payUrl,
        qrCode: prepay.qrCode,
        clientParams: prepay.clientParams,
        updatedAt: at,
        version: current.version + 1,
        ...(current.risk ? { risk: { ...current.risk, review: reviewDecision('APPROVED', at, note) } } : {}),
      };
      const syncAt = asksChannelEarly(approved)
        ? nextPaymentSyncAt(approved.expiresAt, now, deps.paymentSyncAfterMs, 0)
        : undefined;
      if (syncAt) approved.syncAt = syncAt;
      const { payment: next, changes }: { payment: Payment; changes: ChangeSet } =
        current.channel === 'BALANCE'
          ? await settleFromBalance(deps, approved, now)
          : { payment: approved, changes: {} };
      await deps.store.commit({
        ...changes,
        payments: [{ payment: next, expectedVersion: current.version }],
        audit: [
          auditRecord(deps, {
            action: 'risk.review_approved',
            merchantId: current.merchantId,
            resource: { type: 'payment', id: current.id },
            before: { status: current.status, review: 'PENDING' },
            after: { status: next.status, review: 'APPROVED' },
          }),
        ],
      });
      return next;
    });
  } catch (error) {
    // Registered at the channel but not approved here: close it there, so the order can never be paid.
    if (payment.channel !== 'BALANCE') await channel.closePayment(payment).catch(() => undefined);
    throw error;
  }
}

/**
 * An operator rejects a held payment: it is closed (`payment.closed` to the merchant) with `review: REJECTED`, and
 * its reserved limits and channel volume are given back — one transaction, audited.
 */
export async function rejectReview(deps: ReviewDeps, paymentId: string, note?: string): Promise<Payment> {
  const payment = await heldPayment(deps, paymentId);
  const outcome = await closeAtChannelAndCommit(deps, payment, { reject: note ? { note } : {} });
  if (outcome.kind !== 'closed') throw notHeld(outcome.payment, deps.clock());
  return outcome.payment;
}

/** The payment, if it is held and still open; otherwise `404` / `409 INVALID_STATE`. */
async function heldPayment(deps: ReviewDeps, paymentId: string): Promise<Payment> {
  const payment = await deps.payments.get(paymentId);
  if (!payment) throw new NotFoundError(`payment ${paymentId} not found`);
  const now = deps.clock();
  if (!isHeld(payment.risk) || visibleStatus(payment, now) !== 'PENDING') throw notHeld(payment, now);
  return payment;
}

function notHeld(payment: Payment, now: Date): ConflictError {
  return new ConflictError('INVALID_STATE', `payment ${payment.id} is not held for review`, {
    status: visibleStatus(payment, now),
    review: payment.risk?.review?.status ?? null,
  });
}
