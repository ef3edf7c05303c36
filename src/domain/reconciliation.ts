/**
 * Reconciliation's pure core: classifying bill lines against gateway records, the tally and the differences report.
 * Kept in one module (over 250 lines) because the classes, totals and CSV columns must change together.
 */
import { addMinor, formatAmount } from '#domain/money.ts';
import type { Payment, ReconciliationRepair } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';

/** A bill line's status as the channel reports it; `REFUND` on a payment means "paid, then refunded". */
export type BillStatus = 'SUCCESS' | 'REFUND' | 'CLOSED' | 'PROCESSING' | (string & {});

/**
 * One line of a channel's bill, normalized by the bill adapters. `amountMinor` is never negative (`kind` says which
 * way the money went); `feeMinor` is what the channel charged for the line, negative when a refund returns a fee.
 */
export interface BillEntry {
  kind: 'PAYMENT' | 'REFUND';
  /** The gateway id the channel echoes: `pay_…` for a payment, `ref_…` for a refund (foreign ids pass through). */
  gatewayId: string;
  /** On a refund line, the payment it refunds, when the bill names it. */
  paymentId?: string;
  channelTradeNo: string;
  amountMinor: number;
  feeMinor: number;
  currency: string;
  status: BillStatus;
  /** ISO 8601 UTC. */
  occurredAt: string;
}

export type ReconciliationClass = 'MATCHED' | 'AMOUNT_MISMATCH' | 'STATUS_MISMATCH' | 'LOCAL_ONLY' | 'CHANNEL_ONLY';

/** Why a line is not `MATCHED`, as a code finance can filter on. */
export type DifferenceReason =
  | 'AMOUNT_OR_CURRENCY_DIFFERS'
  | 'NOT_IN_GATEWAY'
  | 'NOT_SETTLED_IN_GATEWAY'
  | 'NOT_SETTLED_AT_CHANNEL'
  | 'FINAL_STATES_DISAGREE'
  | 'REPEATED_IN_BILL'
  | 'NOT_IN_BILL';

/** The verdict on one line. `repairable`: the channel verifiably took money the gateway has not recorded yet. */
export interface Classification {
  class: ReconciliationClass;
  repairable: boolean;
  reason?: DifferenceReason;
}

/**
 * What became of a difference: `repaired` (a reconciliation run applied the channel's confirmed result — this run or
 * an earlier one of the same day), `confirmed_not_paid` (repairable, but the channel's query does not confirm it, so
 * nothing was applied), `not_confirmed` (the channel could not be asked: re-run later), `needs_review` (nothing
 * automatic applies; finance decides).
 */
export type DifferenceOutcome = 'repaired' | 'confirmed_not_paid' | 'not_confirmed' | 'needs_review';

/**
 * A non-matched item of the differences report, with both sides' values. `local` is the gateway's side as the day
 * was classified: for a repaired record, its state before the repair (`repair` says when, by which run, and after).
 */
export interface Difference extends Classification {
  class: Exclude<ReconciliationClass, 'MATCHED'>;
  reason: DifferenceReason;
  outcome: DifferenceOutcome;
  kind: BillEntry['kind'];
  gatewayId: string;
  bill?: BillEntry & { lineNumber?: number };
  local?: { status: string; amountMinor: number; currency: string; at: string };
  repair?: ReconciliationRepair;
}

/** The `summary` object of `GET /v1/reconciliations/{date}` (API.md): counts, and totals as decimal strings. */
export interface ReconciliationSummary {
  matched: number;
  amount_mismatch: number;
  status_mismatch: number;
  local_only: number;
  channel_only: number;
  repaired: number;
  local_total: string;
  channel_total: string;
  fee_total: string;
}

/** Net totals of one currency in minor units: payments minus refunds per side, fees charged minus returned. */
export interface ReconciliationTotals {
  localMinor: number;
  channelMinor: number;
  feeMinor: number;
}

type Outcome = 'SETTLED' | 'PENDING' | 'UNSETTLED';
const PAID: ReadonlySet<Payment['status']> = new Set(['SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED']);

function isRefund(record: Payment | Refund): record is Refund {
  return 'paymentId' in record;
}

function channelOutcome(entry: BillEntry): Outcome {
  if (entry.kind === 'PAYMENT')
    return entry.status === 'SUCCESS' || entry.status === 'REFUND' ? 'SETTLED' : 'UNSETTLED';
  if (entry.status === 'SUCCESS') return 'SETTLED';
  // WeChat Pay bills snapshot a refund when it is accepted: PROCESSING there is not a disagreement.
  return entry.status === 'PROCESSING' ? 'PENDING' : 'UNSETTLED';
}

function localOutcome(record: Payment | Refund): Outcome {
  if (!isRefund(record)) return PAID.has(record.status) ? 'SETTLED' : 'UNSETTLED';
  return record.status === 'SUCCEEDED' ? 'SETTLED' : record.status === 'PROCESSING' ? 'PENDING' : 'UNSETTLED';
}

function verdict(kind: ReconciliationClass, reason?: DifferenceReason, repairable = false): Classification {
  return { class: kind, repairable, reason };
}

/**
 * Classifies a bill line against the gateway's record of the same id (or none). Pure.
 * - no record (or one of the other kind) → `CHANNEL_ONLY`;
 * - both sides settled, or both not, or the channel's refund still processing → `MATCHED` if amount and currency
 *   agree, else `AMOUNT_MISMATCH`;
 * - the channel settled what the gateway holds PENDING/CLOSED/FAILED (payment) or PROCESSING (refund) →
 *   `CHANNEL_ONLY`, `repairable` (a lost callback: apply the result, as `decideResult` would);
 * - the channel settled a refund the gateway holds FAILED, or did not settle what the gateway did → `STATUS_MISMATCH`.
 */
export function classify(entry: BillEntry, local: Payment | Refund | undefined): Classification {
  if (!local || isRefund(local) !== (entry.kind === 'REFUND')) return verdict('CHANNEL_ONLY', 'NOT_IN_GATEWAY');
  const amountsAgree = local.amountMinor === entry.amountMinor && local.currency === entry.currency;
  const channel = channelOutcome(entry);
  const gateway = localOutcome(local);
  if (channel === 'PENDING' || channel === gateway) {
    return amountsAgree ? verdict('MATCHED') : verdict('AMOUNT_MISMATCH', 'AMOUNT_OR_CURRENCY_DIFFERS');
  }
  if (channel === 'UNSETTLED') return verdict('STATUS_MISMATCH', 'NOT_SETTLED_AT_CHANNEL');
  if (!amountsAgree) return verdict('AMOUNT_MISMATCH', 'AMOUNT_OR_CURRENCY_DIFFERS');
  if (entry.kind === 'PAYMENT' || gateway === 'PENDING') return verdict('CHANNEL_ONLY', 'NOT_SETTLED_IN_GATEWAY', true);
  return verdict('STATUS_MISMATCH', 'FINAL_STATES_DISAGREE');
}

const signed = (kind: BillEntry['kind'], minor: number): number => (kind === 'PAYMENT' ? minor : -minor);

function localSide(record: Payment | Refund): NonNullable<Difference['local']> {
  const at = isRefund(record) ? record.completedAt : record.paidAt;
  return {
    status: record.status,
    amountMinor: record.amountMinor,
    currency: record.currency,
    at: at ?? record.updatedAt,
  };
}

/**
 * A record as a run of the business day `date` classifies it: one that a run of that day repaired is taken in its
 * state before the repair (so re-runs classify the day the same way), with the repair; any other as it is.
 */
export function asClassified(
  record: Payment | Refund,
  date: string,
): { record: Payment | Refund; repair?: ReconciliationRepair } {
  const repair = record.repair;
  if (!repair || repair.date !== date) return { record };
  // A repaired record was unsettled before: no settlement time, and its last change as the report showed it.
  const before = { ...record, status: repair.before.status, updatedAt: repair.before.at } as Payment | Refund;
  if (isRefund(before)) before.completedAt = undefined;
  else before.paidAt = undefined;
  return { record: before, repair };
}

/**
 * Whether a classified bill line counts in the day's settlement: both sides agree it settled (`MATCHED` with the
 * gateway's record settled), or a reconciliation run repaired it. Every other line is a difference held back.
 */
export function countsForSettlement(
  entry: BillEntry,
  found: Payment | Refund | undefined,
  difference: Difference | undefined,
): boolean {
  if (difference) return difference.outcome === 'repaired';
  return found !== undefined && isRefund(found) === (entry.kind === 'REFUND') && localOutcome(found) === 'SETTLED';
}

/**
 * Reconciles a bill line by line (streaming): counts each class and sums both sides per currency. Remembers the ids
 * it saw, so a final pass over the gateway's records of the business day finds `LOCAL_ONLY` ones. `date`: the
 * business day reconciled, so that records a run of that day repaired are classified as they stood
 * ({@link asClassified}).
 */
export class ReconciliationTally {
  private readonly counts = { matched: 0, amount_mismatch: 0, status_mismatch: 0, local_only: 0, channel_only: 0 };
  private repairs = 0;
  private readonly seen = new Set<string>();
  private readonly totals = new Map<string, ReconciliationTotals>();

  constructor(private readonly date?: string) {}

  /** Classifies one bill line against the record its id names; the difference to report, or undefined if matched. */
  addLine(entry: BillEntry & { lineNumber?: number }, found: Payment | Refund | undefined): Difference | undefined {
    const { record: local, repair } = found && this.date ? asClassified(found, this.date) : { record: found };
    const repeated = this.seen.has(entry.gatewayId);
    this.seen.add(entry.gatewayId);
    const result = repeated ? verdict('CHANNEL_ONLY', 'REPEATED_IN_BILL') : classify(entry, local);
    if (channelOutcome(entry) === 'SETTLED')
      this.add(entry.currency, 'channelMinor', signed(entry.kind, entry.amountMinor));
    this.add(entry.currency, 'feeMinor', entry.feeMinor);
    const sameKind = local !== undefined && isRefund(local) === (entry.kind === 'REFUND');
    if (!repeated && local && sameKind && localOutcome(local) === 'SETTLED') {
      this.add(local.currency, 'localMinor', signed(entry.kind, local.amountMinor));
    }
    const difference = this.record(result, entry.kind, entry.gatewayId, entry, sameKind ? local : undefined);
    if (difference?.repairable && repair) this.markRepaired(difference, repair);
    return difference;
  }

  /** Final pass: a settled gateway record of the business day that no bill line named is `LOCAL_ONLY`. */
  addLocal(record: Payment | Refund): Difference | undefined {
    if (this.seen.has(record.id) || localOutcome(record) !== 'SETTLED') return undefined;
    this.seen.add(record.id);
    const kind = isRefund(record) ? 'REFUND' : 'PAYMENT';
    this.add(record.currency, 'localMinor', signed(kind, record.amountMinor));
    return this.record(verdict('LOCAL_ONLY', 'NOT_IN_BILL'), kind, record.id, undefined, record);
  }

  /** Records the repair of a `repairable` difference (applied now, or by an earlier run of the day). */
  markRepaired(difference: Difference, repair: ReconciliationRepair): void {
    difference.outcome = 'repaired';
    difference.repair = repair;
    this.repairs += 1;
  }

  /** Whether this id is already reconciled: named by a bill line, or counted by {@link addLocal}. */
  saw(gatewayId: string): boolean {
    return this.seen.has(gatewayId);
  }

  /** Totals per currency, in minor units. */
  totalsByCurrency(): Record<string, ReconciliationTotals> {
    return Object.fromEntries([...this.totals].map(([currency, totals]) => [currency, { ...totals }]));
  }

  /** The API summary; totals are those of `currency` (a bill of Alipay or WeChat Pay is all CNY). */
  summary(currency: string): ReconciliationSummary {
    const totals = this.totals.get(currency) ?? { localMinor: 0, channelMinor: 0, feeMinor: 0 };
    return {
      ...this.counts,
      repaired: this.repairs,
      local_total: formatAmount(totals.localMinor, currency),
      channel_total: formatAmount(totals.channelMinor, currency),
      fee_total: formatAmount(totals.feeMinor, currency),
    };
  }

  private add(currency: string, side: keyof ReconciliationTotals, minor: number): void {
    const totals = this.totals.get(currency) ?? { localMinor: 0, channelMinor: 0, feeMinor: 0 };
    totals[side] = addMinor(totals[side], minor);
    this.totals.set(currency, totals);
  }

  private record(
    result: Classification,
    kind: BillEntry['kind'],
    gatewayId: string,
    bill: Difference['bill'],
    local: Payment | Refund | undefined,
  ): Difference | undefined {
    this.counts[result.class.toLowerCase() as keyof typeof this.counts] += 1;
    if (result.class === 'MATCHED' || !result.reason) return undefined;
    return {
      ...result,
      class: result.class,
      reason: result.reason,
      outcome: result.repairable ? 'not_confirmed' : 'needs_review',
      kind,
      gatewayId,
      bill,
      local: local && localSide(local),
    };
  }
}

/** Columns of the differences report, matching {@link differencesCsvLine}. */
export const DIFFERENCES_CSV_HEADER =
  'class,reason,repairable,kind,gateway_id,bill_line,channel_trade_no,channel_status,channel_amount,channel_fee,' +
  'channel_currency,channel_time,local_status,local_amount,local_currency,local_time,outcome,repaired_at,' +
  'repaired_by_run,local_status_after';

/** One differences-report line (no line break): both sides' values, amounts as contract decimals, CSV-escaped. */
export function differencesCsvLine(difference: Difference): string {
  const { bill, local } = difference;
  return [
    difference.class,
    difference.reason,
    String(difference.repairable),
    difference.kind,
    difference.gatewayId,
    bill?.lineNumber === undefined ? '' : String(bill.lineNumber),
    bill?.channelTradeNo,
    bill?.status,
    bill && formatAmount(bill.amountMinor, bill.currency),
    bill && formatAmount(bill.feeMinor, bill.currency),
    bill?.currency,
    bill?.occurredAt,
    local?.status,
    local && formatAmount(local.amountMinor, local.currency),
    local?.currency,
    local?.at,
    difference.outcome,
    difference.repair?.at,
    difference.repair?.runId,
    difference.repair?.after.status,
  ]
    .map(csvField)
    .join(',');
}

/** A differences row for a bill line that could not be read: class `ERROR`, the error code, its line number. */
export function errorCsvLine(error: { code: string; lineNumber: number }): string {
  const columns = Array<string>(DIFFERENCES_CSV_HEADER.split(',').length).fill('');
  columns.splice(0, 6, 'ERROR', error.code, 'false', '', '', String(error.lineNumber));
  columns[16] = 'needs_review';
  return columns.join(',');
}

/** RFC 4180 quoting; a leading `=`, `+` or `@` is neutralized so a spreadsheet never runs a channel's text. */
function csvField(value: string | undefined): string {
  const text = value === undefined ? '' : /^[=+@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
