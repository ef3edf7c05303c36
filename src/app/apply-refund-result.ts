import type {
  AlarmMetrics,
  PaymentRepository,
  RefundRepository,
  TransactionStore,
  WalletRepository,
} from '#app/ports.ts';
import { StaleStateError } from '#app/ports.ts';
import type { Channel, Payment } from '#domain/payment.ts';
import { type ChannelRefundResult, type Refund, settleRefund } from '#domain/refund.ts';
import { InsufficientBalance, movements, type WalletChange } from '#domain/wallet.ts';
import { NotFoundError } from '#shared/errors.ts';
import type { IdPrefix } from '#shared/ids.ts';
import { type RepairRun, repairAudit, repairOf } from './apply-payment-result.ts';
import { refundEvent } from './events.ts';
import { untilNotStale } from './stale-retry.ts';
import { moveWallet } from './wallet-movements.ts';

export interface ApplyRefundDeps {
  store: TransactionStore;
  payments: PaymentRepository;
  refunds: RefundRepository;
  wallets: WalletRepository;
  alarms: AlarmMetrics;
  clock: () => Date;
  newId: (prefix: IdPrefix) => string;
}

/**
 * Applies a verified refund result exactly once — the Confirm or Cancel step of TCC.
 *
 * 1. Read the refund; one that is no longer `PROCESSING` already has its result (duplicate: change nothing).
 * 2. ONE transaction: refund → `SUCCEEDED`/`FAILED` and the payment's refund sums and status (both conditional on
 *    their versions); for a recharge, deduct (success) or unfreeze (failure) the frozen amount; for a balance
 *    payment that succeeded, credit the payer back; the `refund.succeeded`/`refund.failed` event.
 *    A reconciliation repair (`repair`) also records its evidence on the refund and an audit entry, in the same
 *    transaction.
 * 3. A lost race re-reads and decides again.
 */
export function applyRefundResult(
  deps: ApplyRefundDeps,
  result: ChannelRefundResult,
  reportedBy: Channel,
  repair?: RepairRun,
): Promise<{ refund: Refund; applied: boolean }> {
  return untilNotStale(async () => {
    const refund = await deps.refunds.get(result.refundId);
    // A channel speaks only for its own refunds.
    if (!refund || refund.channel !== reportedBy) throw new NotFoundError(`refund ${result.refundId} not found`);
    if (refund.status !== 'PROCESSING') return { refund, applied: false };
    const payment = await deps.payments.get(refund.paymentId);
    if (!payment) throw new Error(`refund ${refund.id} points to a missing payment`);
    // Two reads are no snapshot: a concurrent settlement of this very refund may have landed between them. Its
    // version condition would fail the commit anyway; re-read instead of computing from the torn view.
    if ((payment.refundingMinor ?? 0) < refund.amountMinor) throw new StaleStateError('refund read before payment');

    const now = deps.clock();
    const at = now.toISOString();
    const succeeded = result.status === 'SUCCEEDED';
    const next: Refund = {
      ...refund,
      status: result.status,
      channelRefundNo: result.channelRefundNo ?? refund.channelRefundNo,
      completedAt: at,
      updatedAt: at,
      version: refund.version + 1,
    };
    if (repair) next.repair = repairOf(repair, at, refund, next.status);
    const event = refundEvent(deps.newId('evt'), succeeded ? 'refund.succeeded' : 'refund.failed', next, payment, now);
    await deps.store.commit({
      payments: [{ payment: settleRefund(payment, refund, succeeded, at), expectedVersion: payment.version }],
      refunds: [{ refund: next, expectedVersion: refund.version }],
      walletChanges: await settlementWalletChanges(deps, payment, refund, succeeded, at),
      events: [event],
      ...repairAudit(
        deps,
        repair,
        { merchantId: refund.merchantId, resource: { type: 'refund', id: refund.id }, statusBefore: refund.status },
        { status: next.status, channel_refund_no: next.channelRefundNo ?? null },
      ),
    });
    return { refund: next, applied: true };
  });
}

/**
 * The wallet side of Confirm/Cancel: deduct or unfreeze the recipient's frozen amount; credit a balance payment's
 * payer back. The Try step froze exactly this amount, so in a consistent state it cannot come up short; a shortfall
 * means the wallet was read after a concurrent settlement of this same refund that our (older) refund read does not
 * show yet — a torn view, re-read rather than reported.
 */
async function settlementWalletChanges(
  deps: ApplyRefundDeps,
  payment: Payment,
  refund: Refund,
  succeeded: boolean,
  at: string,
): Promise<WalletChange[]> {
  const ref = { paymentId: payment.id, refundId: refund.id };
  const changes: WalletChange[] = [];
  const account = (accountId: string) => ({ merchantId: payment.merchantId, accountId, currency: payment.currency });
  if (payment.accountId) {
    const settle = (succeeded ? movements.deductFrozen : movements.unfreeze)(refund.amountMinor, ref);
    try {
      changes.push(...(await moveWallet(deps, account(payment.accountId), settle, refund.id, at)));
    } catch (error) {
      if (error instanceof InsufficientBalance) throw new StaleStateError('wallet read after a concurrent settlement');
      throw error;
    }
  }
  if (succeeded && payment.channel === 'BALANCE' && payment.payerAccountId) {
    const credit = movements.creditRefund(refund.amountMinor, ref);
    changes.push(...(await moveWallet(deps, account(payment.payerAccountId), credit, refund.id, at)));
  }
  return changes;
}
