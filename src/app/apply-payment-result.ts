import type { AlarmMetrics, PaymentRepository, TransactionStore, WalletRepository } from '#app/ports.ts';
import type { AuditRecord } from '#domain/audit.ts';
import {
  AmountMismatchError,
  type Channel,
  type ChannelPaymentResult,
  decideResult,
  type Payment,
  type ReconciliationRepair,
} from '#domain/payment.ts';
import { isHeld } from '#domain/risk.ts';
import { counterChanges } from '#domain/risk-limits.ts';
import { movements, type WalletChange } from '#domain/wallet.ts';
import { NotFoundError } from '#shared/errors.ts';
import type { IdPrefix } from '#shared/ids.ts';
import { type AuditDeps, auditRecord } from './audit.ts';
import { paymentEvent } from './events.ts';
import { untilNotStale } from './stale-retry.ts';
import { moveWallet } from './wallet-movements.ts';

export interface ApplyResultDeps {
  store: TransactionStore;
  payments: PaymentRepository;
  wallets: WalletRepository;
  alarms: AlarmMetrics;
  clock: () => Date;
  newId: (prefix: IdPrefix) => string;
}

/** The reconciliation run that repairs a record: its business day and run id (recorded on the record). */
export interface RepairRun {
  reconciliationDate: string;
  runId: string;
}

/** The repair evidence a run leaves on the record it repairs. */
export function repairOf(
  repair: RepairRun,
  at: string,
  before: { status: string; updatedAt: string },
  after: string,
): ReconciliationRepair {
  return {
    date: repair.reconciliationDate,
    runId: repair.runId,
    at,
    before: { status: before.status, at: before.updatedAt },
    after: { status: after },
  };
}

/**
 * The audit entry of a reconciliation repair (a manual-grade change, audited with the day's run that made it): the
 * transaction's `audit` part, empty when the change is not a repair.
 */
export function repairAudit(
  deps: AuditDeps,
  repair: RepairRun | undefined,
  record: { merchantId: string; resource: AuditRecord['resource']; statusBefore: string },
  after: Record<string, unknown>,
): { audit?: AuditRecord[] } {
  if (!repair) return {};
  const before = {
    status: record.statusBefore,
    reconciliation_date: repair.reconciliationDate,
    reconciliation_run: repair.runId,
  };
  return {
    audit: [
      auditRecord(deps, {
        action: 'reconciliation.repaired',
        merchantId: record.merchantId,
        resource: record.resource,
        before,
        after,
      }),
    ],
  };
}

export interface ApplyResultOutcome {
  payment: Payment;
  /** False when the payment already reflected this result (duplicate or reordered callback). */
  applied: boolean;
}

/**
 * Applies a verified channel result exactly once.
 *
 * Input: a result whose signature the channel adapter has already verified, and which channel reported it.
 * Output: the payment after the result, and whether this call changed it.
 * 1. Read the payment; reject an amount/currency mismatch (alarmed, nothing changes).
 * 2. Decide: succeed (possibly late), fail, or duplicate (acknowledge, change nothing).
 * 3. In ONE transaction: payment transition (conditional on its version), wallet credit + ledger entry for a
 *    recharge (conditional on the wallet version), outbox event, the risk limits and channel volume given back (a
 *    failure) or taken again (a late success); for a reconciliation repair, the repair evidence on the payment
 *    ({@link repairOf}) and its audit entry.
 * 4. A lost race re-reads and decides again ({@link untilNotStale}), so N concurrent identical callbacks credit once.
 */
export function applyPaymentResult(
  deps: ApplyResultDeps,
  result: ChannelPaymentResult,
  reportedBy: Channel,
  repair?: RepairRun,
): Promise<ApplyResultOutcome> {
  return untilNotStale(() => applyOnce(deps, result, reportedBy, repair));
}

async function applyOnce(
  deps: ApplyResultDeps,
  result: ChannelPaymentResult,
  reportedBy: Channel,
  repair: RepairRun | undefined,
): Promise<ApplyResultOutcome> {
  const payment = await deps.payments.get(result.paymentId);
  // A channel speaks only for its own payments: a sandbox-signed result never settles an Alipay payment.
  if (!payment || payment.channel !== reportedBy) throw new NotFoundError(`payment ${result.paymentId} not found`);
  const now = deps.clock();
  let decision: ReturnType<typeof decideResult>;
  try {
    decision = decideResult(payment, result, now);
  } catch (error) {
    if (error instanceof AmountMismatchError) deps.alarms.count('CallbackAmountMismatch');
    throw error;
  }
  if (decision.kind === 'duplicate') return { payment, applied: false };

  const at = now.toISOString();
  const next: Payment =
    decision.kind === 'succeed'
      ? {
          ...payment,
          status: 'SUCCEEDED',
          late: decision.late,
          paidAt: result.paidAt ?? at,
          channelTradeNo: result.channelTradeNo,
          updatedAt: at,
          version: payment.version + 1,
        }
      : {
          ...payment,
          status: 'FAILED',
          channelTradeNo: result.channelTradeNo,
          updatedAt: at,
          version: payment.version + 1,
        };

  if (repair) next.repair = repairOf(repair, at, payment, next.status);
  const walletChanges: WalletChange[] = [];
  if (decision.kind === 'succeed' && payment.accountId) {
    const account = { merchantId: payment.merchantId, accountId: payment.accountId, currency: payment.currency };
    const credit = movements.credit(payment.amountMinor, payment.id);
    walletChanges.push(...(await moveWallet(deps, account, credit, payment.id, at)));
  }
  const event = paymentEvent(
    deps.newId('evt'),
    decision.kind === 'succeed' ? 'payment.succeeded' : 'payment.failed',
    next,
    now,
  );
  // Throws StaleStateError when the payment or the wallet moved since we read them: untilNotStale decides again.
  await deps.store.commit({
    payments: [{ payment: next, expectedVersion: payment.version }],
    walletChanges,
    events: [event],
    // Failing gives the reserved limits and channel volume back; a late success takes them again.
    counters: counterChanges(payment, next),
    ...repairAudit(
      deps,
      repair,
      { merchantId: payment.merchantId, resource: { type: 'payment', id: payment.id }, statusBefore: payment.status },
      { status: next.status, channel_trade_no: next.channelTradeNo ?? null },
    ),
  });
  if (decision.kind === 'succeed' && decision.late) deps.alarms.count('LatePaymentSuccess');
  // Never registered at a channel, yet verifiably paid: applied (money is never dropped), and raised for an operator.
  if (decision.kind === 'succeed' && isHeld(payment.risk)) deps.alarms.count('HeldPaymentPaid');
  return { payment: next, applied: true };
}
