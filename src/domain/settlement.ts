/**
 * The per-merchant settlement summary of a channel-day (`settlement.csv` beside `differences.csv`): what each merchant
 * is owed for the lines both sides agree on. A line counts when the bill and the gateway agree it settled (`MATCHED`)
 * or a reconciliation run repaired it; every other difference is held back until finance resolves it (it is in
 * `differences.csv`), so a re-run of the same day gives the same bytes.
 */
import type { FeeCharge } from '#domain/fees.ts';
import { addMinor, formatAmount } from '#domain/money.ts';

/** One merchant's totals in one currency, in minor units. */
export interface SettlementTotals {
  payments: number;
  grossMinor: number;
  refundCount: number;
  refundsMinor: number;
  /** What the channel charged (bill fee column; a refund's returned fee is negative). */
  channelFeesMinor: number;
  /** Merchant fees borne by the merchant: charged on payments minus returned on refunds. */
  merchantFeesMinor: number;
  /** Merchant fees the schedule puts on the gateway (recorded, never deducted). */
  gatewayFeesMinor: number;
}

/** One settled line as the settlement counts it. */
export interface SettledLine {
  kind: 'PAYMENT' | 'REFUND';
  merchantId: string;
  currency: string;
  /** The gateway's amount (equal to the bill's: the line matched). */
  amountMinor: number;
  /** The bill's fee column for the line. */
  channelFeeMinor: number;
  /** A payment's merchant fee, or what a refund returns of it. */
  merchantFee: FeeCharge;
}

/** Columns of `settlement.csv`, matching {@link SettlementTally.csv}. */
export const SETTLEMENT_CSV_HEADER =
  'merchant_id,currency,payments,gross,refund_count,refunds,channel_fees,merchant_fees,gateway_borne_fees,net';

const zero = (): SettlementTotals => ({
  payments: 0,
  grossMinor: 0,
  refundCount: 0,
  refundsMinor: 0,
  channelFeesMinor: 0,
  merchantFeesMinor: 0,
  gatewayFeesMinor: 0,
});

/** The net owed to the merchant: gross − refunds − merchant fees (net of returns). */
export function netMinor(totals: SettlementTotals): number {
  return addMinor(totals.grossMinor, -totals.refundsMinor, -totals.merchantFeesMinor);
}

/** Sums settled lines per merchant and currency. */
export class SettlementTally {
  private readonly totals = new Map<string, { merchantId: string; currency: string; totals: SettlementTotals }>();

  /** Counts one settled line. */
  add(line: SettledLine): void {
    const key = `${line.merchantId}\u0000${line.currency}`;
    const entry = this.totals.get(key) ?? { merchantId: line.merchantId, currency: line.currency, totals: zero() };
    const t = entry.totals;
    const sign = line.kind === 'PAYMENT' ? 1 : -1;
    const fee = sign * line.merchantFee.feeMinor;
    if (line.kind === 'PAYMENT') {
      t.payments += 1;
      t.grossMinor = addMinor(t.grossMinor, line.amountMinor);
    } else {
      t.refundCount += 1;
      t.refundsMinor = addMinor(t.refundsMinor, line.amountMinor);
    }
    t.channelFeesMinor = addMinor(t.channelFeesMinor, line.channelFeeMinor);
    if (line.merchantFee.bearer === 'MERCHANT') t.merchantFeesMinor = addMinor(t.merchantFeesMinor, fee);
    else t.gatewayFeesMinor = addMinor(t.gatewayFeesMinor, fee);
    this.totals.set(key, entry);
  }

  /** Every merchant's totals, sorted by merchant id then currency (a stable order: re-runs give the same bytes). */
  entries(): { merchantId: string; currency: string; totals: SettlementTotals }[] {
    return [...this.totals.values()]
      .map((entry) => ({ ...entry, totals: { ...entry.totals } }))
      .sort((a, b) =>
        a.merchantId === b.merchantId ? a.currency.localeCompare(b.currency) : a.merchantId < b.merchantId ? -1 : 1,
      );
  }

  /** The CSV (header and one row per merchant and currency, amounts as contract decimals), ending in a line break. */
  csv(): string {
    const rows = this.entries().map(({ merchantId, currency, totals: t }) => {
      const amount = (minor: number) => formatAmount(minor, currency);
      return [
        merchantId,
        currency,
        String(t.payments),
        amount(t.grossMinor),
        String(t.refundCount),
        amount(t.refundsMinor),
        amount(t.channelFeesMinor),
        amount(t.merchantFeesMinor),
        amount(t.gatewayFeesMinor),
        amount(netMinor(t)),
      ].join(',');
    });
    return `${[SETTLEMENT_CSV_HEADER, ...rows].join('\n')}\n`;
  }
}
