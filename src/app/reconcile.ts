import type { BillChannel, BillError, BillLine } from '#domain/bill.ts';
import { BillCheck } from '#domain/bill-check.ts';
import { billKey, REPORT_FILES, reportKey } from '#domain/buckets.ts';
import {
  billDayWindow,
  DIFFERENCES_CSV_HEADER,
  type Difference,
  differencesCsvLine,
  type ReconciliationSummary,
  ReconciliationTally,
} from '#domain/reconciliation.ts';
import { type ApplyResultDeps, applyPaymentResult } from './apply-payment-result.ts';
import type {
  BillReader,
  PaymentChannel,
  ReconciliationFiles,
  ReconciliationProblem,
  ReconciliationRecord,
  ReconciliationStore,
} from './ports.ts';

/** The channels whose bills are reconciled. */
export const RECONCILED_CHANNELS = ['SANDBOX', 'ALIPAY', 'WECHAT_PAY'] as const satisfies readonly BillChannel[];

/** What {@link reconcileDay} needs. */
export interface ReconcileDeps extends ApplyResultDeps {
  files: ReconciliationFiles;
  reconciliations: ReconciliationStore;
  bills: BillReader;
  channels: ReadonlyMap<string, PaymentChannel>;
}

/** Lines looked up per BatchGetItem. */
const LOOKUP_BATCH = 100;
/** Bill errors listed in summary.json (all of them are in differences.csv). */
const LISTED_ERRORS = 100;

/** An all-zero summary (nothing reconciled). */
export function emptySummary(currency = 'CNY'): ReconciliationSummary {
  return new ReconciliationTally().summary(currency);
}

/**
 * Reconciles one channel's bill of one day (the bill day in the channel's time zone) against the gateway's records.
 *
 * 1. Records the run as `RUNNING`. No bill under `bills/{CHANNEL}/{date}.csv` → `MISSING_BILL` (reason `NO_BILL`),
 *    alarm metric `ReconciliationMissingBill`.
 * 2. Streams the bill through the parser (never whole), looking the lines' records up 100 ids per BatchGetItem, and
 *    classifies every line ({@link ReconciliationTally}); a malformed line becomes a differences row with its line
 *    number. Then the `LOCAL_ONLY` pass reads the channel's GSI2 days of the bill day's window.
 * 3. A bill that is not this channel-day's ({@link BillCheck}: wrong channel, wrong date, bad or missing trailer) is
 *    NOT reconciled: the API contract knows no `REJECTED` status, so the least surprising answer is `MISSING_BILL`
 *    (the expected bill is, in effect, missing) with `details.reason = 'WRONG_BILL'`, the `problems` listed, an
 *    all-zero summary, the same alarm metric, and nothing repaired.
 * 4. Repairs (掉单), only for an accepted bill and only once the whole bill was read: a payment the channel settled
 *    that the gateway holds PENDING/CLOSED/FAILED is confirmed with `channel.queryPayment`; only a `SUCCEEDED` answer
 *    is applied, through {@link applyPaymentResult} (exactly once: a re-run finds it SUCCEEDED and MATCHED). Nothing
 *    else is changed.
 * 5. Writes `reports/{date}/{channel}/summary.json` and `differences.csv` (replacing a previous run's) and the
 *    summary record as `COMPLETED`.
 */
export async function reconcileDay(
  deps: ReconcileDeps,
  input: { channel: BillChannel; date: string },
): Promise<ReconciliationRecord> {
  const { channel, date } = input;
  const key = billKey(channel, date);
  const startedAt = deps.clock().toISOString();
  const base = { date, channel, startedAt, lines: 0, errors: 0, problems: [] as ReconciliationProblem[] };
  await deps.reconciliations.putSummary({ ...base, status: 'RUNNING', summary: emptySummary() });

  const source = await deps.files.openBill(key);
  if (!source) {
    deps.alarms.count('ReconciliationMissingBill');
    const problems = [{ code: 'NO_BILL', message: `no bill at ${key}` }];
    return finish(
      deps,
      { ...base, problems, status: 'MISSING_BILL', summary: emptySummary(), details: { reason: 'NO_BILL' } },
      [],
    );
  }

  const tally = new ReconciliationTally();
  const check = new BillCheck(channel, date);
  const rows: string[] = [];
  const listedErrors: ReconciliationProblem[] = [];
  const repairable: Difference[] = [];
  let currency: string | undefined;
  let batch: BillLine[] = [];
  const head: Uint8Array[] = [];
  let headBytes = 0;

  const flush = async () => {
    if (batch.length === 0) return;
    const found = await deps.reconciliations.getMany(batch.map((line) => line.gatewayId));
    for (const line of batch) {
      const difference = tally.addLine(line, found.get(line.gatewayId));
      if (!difference) continue;
      rows.push(differencesCsvLine(difference));
      if (difference.repairable && difference.kind === 'PAYMENT') repairable.push(difference);
    }
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
      if (listedErrors.length < LISTED_ERRORS) {
        listedErrors.push({ code: event.code, message: `line ${event.lineNumber}: ${event.reason}` });
      }
    }
  }
  await flush();
  const verdict = check.verdict(deps.bills.sniff(Buffer.concat(head)));
  const counted = { lines: verdict.lines, errors: verdict.errors };

  if (!verdict.accepted) {
    deps.alarms.count('ReconciliationMissingBill');
    const problems = [...verdict.problems, ...listedErrors];
    const record: ReconciliationRecord = {
      ...base,
      ...counted,
      problems,
      status: 'MISSING_BILL',
      summary: emptySummary(currency),
      details: { reason: 'WRONG_BILL' },
    };
    return finish(
      deps,
      record,
      rows.filter((row) => row.startsWith('ERROR,')),
    );
  }

  const window = billDayWindow(channel, date);
  for (const day of window.settlementDays) {
    for await (const record of deps.reconciliations.settledOn(channel, day, window.from, window.to)) {
      const difference = tally.addLocal(record);
      if (difference) rows.push(differencesCsvLine(difference));
    }
  }

  const port = deps.channels.get(channel);
  for (const difference of repairable) {
    if (port && (await repair(deps, port, difference, date))) tally.markRepaired();
  }

  const record: ReconciliationRecord = {
    ...base,
    ...counted,
    problems: listedErrors,
    status: 'COMPLETED',
    summary: tally.summary(currency ?? 'CNY'),
  };
  return finish(deps, record, rows);
}

/** Confirms a dropped payment with the channel and applies it; whether this run changed it. */
async function repair(
  deps: ReconcileDeps,
  port: PaymentChannel,
  difference: Difference,
  date: string,
): Promise<boolean> {
  const payment = await deps.payments.get(difference.gatewayId);
  if (!payment || payment.channel !== port.code) return false;
  const result = await port.queryPayment(payment);
  if (result?.status !== 'SUCCEEDED') return false;
  const outcome = await applyPaymentResult(deps, result, port.code, { reconciliationDate: date });
  return outcome.applied;
}

/** A differences row for a bill line that could not be read: class `ERROR`, the error code, its line number. */
function errorCsvLine(error: BillError): string {
  const columns = DIFFERENCES_CSV_HEADER.split(',').length;
  const values = ['ERROR', error.code, 'false', '', '', String(error.lineNumber)];
  return [...values, ...Array<string>(columns - values.length).fill('')].join(',');
}

async function finish(
  deps: ReconcileDeps,
  record: ReconciliationRecord,
  rows: readonly string[],
): Promise<ReconciliationRecord> {
  const done: ReconciliationRecord = { ...record, completedAt: deps.clock().toISOString() };
  const { date, channel } = done;
  const csv = `${[DIFFERENCES_CSV_HEADER, ...rows].join('\n')}\n`;
  await deps.files.putReport(reportKey(date, channel, 'differences.csv'), csv, REPORT_FILES['differences.csv']);
  const json = `${JSON.stringify(reconciliationResource(done), null, 2)}\n`;
  await deps.files.putReport(reportKey(date, channel, 'summary.json'), json, REPORT_FILES['summary.json']);
  await deps.reconciliations.putSummary(done);
  return done;
}

/** The API object of a run (API.md "Reconciliation reports"), plus run details; `report_url` when one is given. */
export function reconciliationResource(record: ReconciliationRecord, reportUrl?: string) {
  return {
    object: 'reconciliation' as const,
    date: record.date,
    channel: record.channel,
    status: record.status,
    summary: record.summary,
    ...(reportUrl ? { report_url: reportUrl } : {}),
    lines: record.lines,
    errors: record.errors,
    problems: record.problems,
    ...(record.details ? { details: record.details } : {}),
    started_at: record.startedAt,
    completed_at: record.completedAt ?? null,
  };
}
