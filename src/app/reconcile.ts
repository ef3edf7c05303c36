import type { BillChannel, BillLine } from '#domain/bill.ts';
import { BillCheck, isBillProblem } from '#domain/bill-check.ts';
import { billKey, REPORT_FILES, type ReportFile, reportKey, runReportKey } from '#domain/buckets.ts';
import { businessDayWindow, type SettlementTimeZones } from '#domain/business-day.ts';
import type { Payment } from '#domain/payment.ts';
import {
  countsForSettlement,
  DIFFERENCES_CSV_HEADER,
  type Difference,
  differencesCsvLine,
  errorCsvLine,
  type ReconciliationSummary,
  ReconciliationTally,
} from '#domain/reconciliation.ts';
import type { Refund } from '#domain/refund.ts';
import { SETTLEMENT_CSV_HEADER } from '#domain/settlement.ts';
import { type ApplyResultDeps, applyPaymentResult } from './apply-payment-result.ts';
import { type ApplyRefundDeps, applyRefundResult } from './apply-refund-result.ts';
import { DaySettlement } from './day-settlement.ts';
import type {
  BillReader,
  FeeRecords,
  FeeSchedules,
  PaymentChannel,
  ReconciliationFiles,
  ReconciliationProblem,
  ReconciliationRecord,
  ReconciliationRepairEntry,
  ReconciliationStore,
} from './ports.ts';

/** The channels whose bills are reconciled. */
export const RECONCILED_CHANNELS = ['SANDBOX', 'ALIPAY', 'WECHAT_PAY'] as const satisfies readonly BillChannel[];

/** What {@link reconcileDay} needs. */
export interface ReconcileDeps extends ApplyResultDeps, ApplyRefundDeps {
  files: ReconciliationFiles;
  reconciliations: ReconciliationStore;
  bills: Pick<BillReader, 'parse' | 'sniff'>;
  channels: ReadonlyMap<string, PaymentChannel>;
  /** Each channel's settlement time zone: its business day is the `date` reconciled. */
  settlementTimeZones: SettlementTimeZones;
  /** Prices the settled lines (merchant fees). */
  feeSchedules: Pick<FeeSchedules, 'get'>;
  /** Where each settled line's fees are recorded. */
  feeRecords: Pick<FeeRecords, 'put'>;
}

/** Lines looked up per BatchGetItem. */
const LOOKUP_BATCH = 100;
/** Bill errors and repairs listed in summary.json (all of them are in differences.csv). */
const LISTED = 100;

/** An all-zero summary (nothing reconciled). */
export function emptySummary(currency = 'CNY'): ReconciliationSummary {
  return new ReconciliationTally().summary(currency);
}

/** A new run id: its UTC start time (so runs sort by it), then 8 random hex digits. */
function runIdOf(startedAt: string, randomId: string): string {
  return `run_${startedAt.replace(/[-:.]/g, '')}_${randomId.slice(-8)}`;
}

/**
 * Reconciles one channel's bill of one business day (the `date` in the channel's settlement time zone) against the
 * gateway's records, as a new run with its own reports; the channel-day's latest run is what the API answers with.
 *
 * 1. Records the run as `RUNNING`. No bill under `bills/{CHANNEL}/{date}.csv`: if the gateway holds no settled payment
 *    nor completed refund of the channel-day either (its GSI2 business day, the sweep's own read), the day had no
 *    trades — Alipay and WeChat Pay publish no bill for such a day — and is `COMPLETED` with nothing reconciled
 *    (`details.reason = 'NO_ACTIVITY'`, all-zero summary, no alarm). Otherwise money of the day is unaccounted:
 *    `MISSING_BILL` (reason `NO_BILL`), alarm metric `ReconciliationMissingBill`.
 * 2. Streams the bill through the parser (never whole), looking the lines' records up 100 ids per BatchGetItem, and
 *    classifies every line ({@link ReconciliationTally}); a record that a run of this day repaired is classified as
 *    it stood before (its repair evidence), so re-runs classify the day identically and keep showing the repair. A
 *    malformed line becomes a differences row with its line number. Then the `LOCAL_ONLY` pass reads the channel's
 *    GSI2 business day.
 * 3. A bill that is not this channel-day's ({@link BillCheck}: wrong channel, wrong date, bad or missing trailer) is
 *    NOT reconciled: `MISSING_BILL` with `details.reason = 'WRONG_BILL'` (the contract knows no `REJECTED`), each
 *    problem listed once, an all-zero summary, the same alarm metric, and nothing repaired.
 * 4. Repairs, only for an accepted bill and only once the whole bill was read: a payment (refund) the channel settled
 *    that the gateway holds unsettled (PROCESSING) is confirmed with the channel's query; only a success is applied,
 *    through the normal path ({@link applyPaymentResult} / {@link applyRefundResult}: exactly once), with the repair
 *    evidence on the record. Each differences row carries its outcome.
 * 5. Settlement: every line both sides agree settled (or a run repaired) is priced ({@link DaySettlement}: the
 *    bill's channel fee, the merchant fee of the schedule in force when it was paid), its fee record written, and
 *    summed per merchant into `settlement.csv` (the header alone for a bill not reconciled).
 * 6. Writes this run's `summary.json`, `differences.csv` and `settlement.csv` under `runs/{runId}/` and as the
 *    latest, then the run record as `COMPLETED`.
 */
export async function reconcileDay(
  deps: ReconcileDeps,
  input: { channel: BillChannel; date: string },
): Promise<ReconciliationRecord> {
  const { channel, date } = input;
  const key = billKey(channel, date);
  const startedAt = deps.clock().toISOString();
  const timeZone = deps.settlementTimeZones[channel];
  const window = businessDayWindow(timeZone, date);
  const base = {
    date,
    channel,
    runId: runIdOf(startedAt, deps.newId('run')),
    timeZone,
    window,
    startedAt,
    lines: 0,
    errors: 0,
    problems: [] as ReconciliationProblem[],
    repairs: [] as ReconciliationRepairEntry[],
  };
  await deps.reconciliations.putRun({ ...base, status: 'RUNNING', summary: emptySummary() });

  const source = await deps.files.openBill(key);
  if (!source) {
    if (!(await hasActivity(deps, channel, date, window))) {
      const record = { ...base, summary: emptySummary(), details: { reason: 'NO_ACTIVITY' as const } };
      return finish(deps, { ...record, status: 'COMPLETED' }, [], EMPTY_SETTLEMENT);
    }
    deps.alarms.count('ReconciliationMissingBill');
    const problems = [{ code: 'NO_BILL', message: `no bill at ${key}` }];
    const record = { ...base, problems, summary: emptySummary(), details: { reason: 'NO_BILL' as const } };
    return finish(deps, { ...record, status: 'MISSING_BILL' }, [], EMPTY_SETTLEMENT);
  }

  const tally = new ReconciliationTally(date);
  const settlement = new DaySettlement(deps, { date, channel, runId: base.runId });
  const check = new BillCheck(channel, date, timeZone);
  // Rows in report order; a repairable difference stays an object until its repair was tried.
  const rows: (string | Difference)[] = [];
  const listedErrors: ReconciliationProblem[] = [];
  const repairs: ReconciliationRepairEntry[] = [];
  let currency: string | undefined;
  let batch: BillLine[] = [];
  const head: Uint8Array[] = [];
  let headBytes = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    const found = await deps.reconciliations.getMany(batch.map((line) => line.gatewayId));
    const settled: { line: BillLine; record: Payment | Refund }[] = [];
    for (const line of batch) {
      const record = found.get(line.gatewayId);
      const difference = tally.addLine(line, record);
      if (record && countsForSettlement(line, record, difference)) settled.push({ line, record });
      if (!difference) continue;
      // Repaired by an earlier run of the day: shown (and listed) as such again.
      if (difference.repair && repairs.length < LISTED) repairs.push(repairEntry(difference));
      rows.push(difference.outcome === 'not_confirmed' ? difference : differencesCsvLine(difference));
    }
    const payments = new Map([...found].filter((entry): entry is [string, Payment] => !('paymentId' in entry[1])));
    await settlement.add(settled, payments);
    batch = [];
  };

  async function* tap(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      if (headBytes < 4096) {
        head.push(chunk.subarray(0, 4096 - headBytes));
        headBytes += head.at(-1)?.length ?? 0;
      }
      yield chunk;
    }
  }

  for await (const event of deps.bills.parse(channel, tap())) {
    check.observe(event);
    if (event.type === 'line') {
      currency ??= event.currency;
      batch.push(event);
      if (batch.length >= LOOKUP_BATCH) await flush();
    } else if (event.type === 'error') {
      rows.push(errorCsvLine(event));
      // A problem of the bill itself is listed once, by the bill check; only line errors are listed here.
      if (listedErrors.length < LISTED && !isBillProblem(event.code)) {
        listedErrors.push({ code: event.code, message: `line ${event.lineNumber}: ${event.reason}` });
      }
    }
  }
  await flush();
  const verdict = check.verdict(deps.bills.sniff(Buffer.concat(head)));
  const counted = { lines: verdict.lines, errors: verdict.errors };

  if (!verdict.accepted) {
    deps.alarms.count('ReconciliationMissingBill');
    const record: ReconciliationRecord = {
      ...base,
      ...counted,
      problems: [...verdict.problems, ...listedErrors],
      status: 'MISSING_BILL',
      summary: emptySummary(currency),
      details: { reason: 'WRONG_BILL' },
    };
    await settlement.flush();
    return finish(
      deps,
      record,
      rows.filter((row): row is string => typeof row === 'string' && row.startsWith('ERROR,')),
      EMPTY_SETTLEMENT,
    );
  }

  for await (const record of deps.reconciliations.settledOn(channel, date, window.from, window.to)) {
    const difference = tally.addLocal(record);
    if (difference) rows.push(differencesCsvLine(difference));
  }

  const port = deps.channels.get(channel);
  const run = { reconciliationDate: date, runId: base.runId };
  const written: string[] = [];
  for (const row of rows) {
    if (typeof row === 'string') {
      written.push(row);
      continue;
    }
    const applied = port && (await repair(deps, port, tally, row, run));
    if (applied && row.bill) await settlement.add([{ line: row.bill, record: applied }]);
    if (row.repair && repairs.length < LISTED) repairs.push(repairEntry(row));
    written.push(differencesCsvLine(row));
  }

  const record: ReconciliationRecord = {
    ...base,
    ...counted,
    problems: listedErrors,
    repairs,
    status: 'COMPLETED',
    summary: tally.summary(currency ?? 'CNY'),
  };
  await settlement.flush();
  return finish(deps, record, written, settlement.tally.csv());
}

/** Whether the gateway settled any payment or refund of the channel-day (reads no further than the first). */
async function hasActivity(
  deps: ReconcileDeps,
  channel: BillChannel,
  date: string,
  window: { from: string; to: string },
): Promise<boolean> {
  for await (const _record of deps.reconciliations.settledOn(channel, date, window.from, window.to)) return true;
  return false;
}

function repairEntry(difference: Difference): ReconciliationRepairEntry {
  const repair = difference.repair;
  if (!repair) throw new Error('not a repaired difference');
  return {
    kind: difference.kind,
    gatewayId: difference.gatewayId,
    runId: repair.runId,
    at: repair.at,
    statusBefore: repair.before.status,
    statusAfter: repair.after.status,
  };
}

/**
 * Confirms a repairable difference with the channel and applies it through the normal path; sets its outcome and
 * answers the repaired record. `repaired` only when this run's transaction applied it (a concurrent callback that won
 * leaves `needs_review`).
 */
async function repair(
  deps: ReconcileDeps,
  port: PaymentChannel,
  tally: ReconciliationTally,
  difference: Difference,
  run: { reconciliationDate: string; runId: string },
): Promise<Payment | Refund | undefined> {
  try {
    if (difference.kind === 'PAYMENT') {
      const payment = await deps.payments.get(difference.gatewayId);
      if (!payment || payment.channel !== port.code) return;
      const result = await port.queryPayment(payment);
      if (result?.status !== 'SUCCEEDED') {
        difference.outcome = 'confirmed_not_paid';
        return;
      }
      const outcome = await applyPaymentResult(deps, result, port.code, run);
      if (!outcome.applied || !outcome.payment.repair) {
        difference.outcome = 'needs_review';
        return;
      }
      tally.markRepaired(difference, outcome.payment.repair);
      return outcome.payment;
    } else {
      const refund = await deps.refunds.get(difference.gatewayId);
      if (!refund || refund.channel !== port.code) return;
      const result = await port.queryRefund(refund);
      if (result?.status !== 'SUCCEEDED') {
        difference.outcome = result ? 'confirmed_not_paid' : 'not_confirmed';
        return;
      }
      const outcome = await applyRefundResult(deps, result, port.code, run);
      if (!outcome.applied || !outcome.refund.repair) {
        difference.outcome = 'needs_review';
        return;
      }
      tally.markRepaired(difference, outcome.refund.repair);
      return outcome.refund;
    }
  } catch {
    // The channel could not be asked (outage) or answered nothing usable: nothing applied, a re-run tries again.
    difference.outcome = 'not_confirmed';
  }
}

/** The settlement report of a run that reconciled nothing: its header only. */
const EMPTY_SETTLEMENT = `${SETTLEMENT_CSV_HEADER}\n`;

async function finish(
  deps: ReconcileDeps,
  record: ReconciliationRecord,
  rows: readonly string[],
  settlementCsv: string,
): Promise<ReconciliationRecord> {
  const done: ReconciliationRecord = { ...record, completedAt: deps.clock().toISOString() };
  const { date, channel, runId } = done;
  const bodies: Record<ReportFile, string> = {
    'differences.csv': `${[DIFFERENCES_CSV_HEADER, ...rows].join('\n')}\n`,
    'summary.json': `${JSON.stringify(reconciliationResource(done), null, 2)}\n`,
    'settlement.csv': settlementCsv,
  };
  for (const file of Object.keys(REPORT_FILES) as ReportFile[]) {
    await deps.files.putReport(runReportKey(date, channel, runId, file), bodies[file], REPORT_FILES[file]);
    await deps.files.putReport(reportKey(date, channel, file), bodies[file], REPORT_FILES[file]);
  }
  await deps.reconciliations.putRun(done);
  return done;
}

/** A run as the API lists it beside the one shown. */
export function runResource(record: ReconciliationRecord) {
  return {
    run_id: record.runId,
    status: record.status,
    repaired: record.summary.repaired,
    started_at: record.startedAt,
    completed_at: record.completedAt ?? null,
  };
}

/**
 * The API object of a run (API.md "Reconciliation reports"), plus run details: its id, business day window and time
 * zone, problems, the day's repairs with the run that made each; `report_url` and `runs` when given.
 */
export function reconciliationResource(
  record: ReconciliationRecord,
  extra: { reportUrl?: string; reportUrls?: Record<string, string>; runs?: ReconciliationRecord[] } = {},
) {
  return {
    object: 'reconciliation' as const,
    date: record.date,
    channel: record.channel,
    status: record.status,
    summary: record.summary,
    ...(extra.reportUrl ? { report_url: extra.reportUrl } : {}),
    ...(extra.reportUrls ? { report_urls: extra.reportUrls } : {}),
    run_id: record.runId,
    time_zone: record.timeZone,
    window: record.window,
    lines: record.lines,
    errors: record.errors,
    problems: record.problems,
    repairs: record.repairs.map((repair) => ({
      kind: repair.kind,
      gateway_id: repair.gatewayId,
      run_id: repair.runId,
      repaired_at: repair.at,
      status_before: repair.statusBefore,
      status_after: repair.statusAfter,
    })),
    ...(record.details ? { details: record.details } : {}),
    started_at: record.startedAt,
    completed_at: record.completedAt ?? null,
    ...(extra.runs ? { runs: extra.runs.map(runResource) } : {}),
  };
}
