import type { Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { SettlementTally } from '#domain/settlement.ts';
import { FeeBook } from './fees.ts';
import type { FeeRecord, FeeRecords, FeeSchedules, ReconciliationStore } from './ports.ts';

/** Fee records written per batch (one TransactWriteItems each). */
const RECORD_BATCH = 100;

export interface DaySettlementDeps {
  feeSchedules: Pick<FeeSchedules, 'get'>;
  feeRecords: Pick<FeeRecords, 'put'>;
  reconciliations: Pick<ReconciliationStore, 'getMany'>;
}

/**
 * A reconciliation run's settlement: prices each settled line (the merchant fee from the schedule, the channel fee
 * from the bill line), records its fees and sums them per merchant ({@link SettlementTally}). A refund is priced
 * against its payment, read in the same batch.
 */
export class DaySettlement {
  readonly tally = new SettlementTally();
  private readonly fees: FeeBook;
  private pending: FeeRecord[] = [];

  constructor(
    private readonly deps: DaySettlementDeps,
    private readonly run: { date: string; channel: string; runId: string },
  ) {
    this.fees = new FeeBook(deps.feeSchedules);
  }

  /** Counts settled lines with the gateway's (post-repair) records; `payments`: refunds' payments already read. */
  async add(
    lines: readonly { line: { feeMinor: number }; record: Payment | Refund }[],
    payments = new Map<string, Payment>(),
  ) {
    const missing = lines
      .map(({ record }) => ('paymentId' in record ? record.paymentId : undefined))
      .filter((id): id is string => id !== undefined && !payments.has(id));
    if (missing.length > 0) {
      for (const [id, found] of await this.deps.reconciliations.getMany([...new Set(missing)])) {
        if (!('paymentId' in found)) payments.set(id, found);
      }
    }
    for (const { line, record } of lines) {
      const payment = 'paymentId' in record ? payments.get(record.paymentId) : record;
      if (!payment) continue; // a refund of a payment the gateway does not hold cannot have matched
      const refund = 'paymentId' in record ? (record as Refund) : undefined;
      const merchantFee = refund ? await this.fees.returnFor(refund, payment) : await this.fees.chargeFor(payment);
      const kind = refund ? 'REFUND' : 'PAYMENT';
      this.tally.add({
        kind,
        merchantId: record.merchantId,
        currency: record.currency,
        amountMinor: record.amountMinor,
        channelFeeMinor: line.feeMinor,
        merchantFee,
      });
      this.pending.push({
        gatewayId: record.id,
        kind,
        merchantId: record.merchantId,
        paymentId: payment.id,
        currency: record.currency,
        amountMinor: record.amountMinor,
        channelFeeMinor: line.feeMinor,
        merchantFee,
        ...this.run,
      });
    }
    if (this.pending.length >= RECORD_BATCH) await this.flush();
  }

  /** Writes the fee records not written yet. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    await this.deps.feeRecords.put(records);
  }
}
