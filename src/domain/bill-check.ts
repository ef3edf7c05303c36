import type { BillChannel, BillEvent, BillHeader, BillLine, BillSummary } from '#domain/bill.ts';
import { businessDayOf } from '#domain/business-day.ts';

/** Why a bill must not be reconciled as the bill of this channel and day. */
export type BillProblemCode =
  | 'UNRECOGNIZED_FORMAT'
  | 'WRONG_CHANNEL'
  | 'WRONG_DATE'
  | 'SUMMARY_MISMATCH'
  | 'MISSING_SUMMARY';

/** One reason to reject a bill. */
export interface BillProblem {
  code: BillProblemCode | 'UNREADABLE_ARCHIVE' | 'NO_BILL';
  message: string;
}

/** Whether a bill is the one expected, and what it holds. Malformed lines alone do not reject it. */
export interface BillVerdict {
  accepted: boolean;
  problems: BillProblem[];
  header?: BillHeader;
  summary?: BillSummary;
  lines: number;
  errors: number;
  /** Bill days of the lines taken as date evidence, sorted (at most 31 kept). */
  days: string[];
}

const REJECTING = new Set(['UNRECOGNIZED_FORMAT', 'SUMMARY_MISMATCH', 'MISSING_SUMMARY']);

/** Whether a parser error code is a problem of the whole bill (it rejects the bill) rather than of one line. */
export function isBillProblem(code: string): boolean {
  return REJECTING.has(code);
}

/**
 * Watches a bill's events go by (alongside reconciliation, in the same pass) and tells at the end whether the bill
 * is the expected channel's bill of `date`: the declared period (Alipay), else the bill day of the lines. WeChat Pay
 * refund lines are not date evidence: a refund accepted today may belong to an older payment.
 */
export class BillCheck {
  private header?: BillHeader;
  private summary?: BillSummary;
  private lines = 0;
  private errors = 0;
  private outside = 0;
  private readonly days = new Set<string>();
  private readonly problems: BillProblem[] = [];

  /** `zone`: the channel's settlement time zone, in which `date` and the lines' days are business days. */
  constructor(
    readonly channel: BillChannel,
    readonly date: string,
    readonly zone: string,
  ) {}

  /** Takes the next event of the bill. */
  observe(event: BillEvent): void {
    if (event.type === 'header') {
      this.header = event;
      if (event.period && event.date !== this.date) {
        const message = `the bill declares ${event.period.from} – ${event.period.to}, not the bill day ${this.date}`;
        this.problems.push({ code: 'WRONG_DATE', message });
      }
    } else if (event.type === 'summary') {
      this.summary = event;
    } else if (event.type === 'line') {
      this.lines += 1;
      if (this.isDateEvidence(event)) this.noteDay(businessDayOf(this.zone, event.occurredAt));
    } else {
      this.errors += 1;
      if (REJECTING.has(event.code)) this.problems.push({ code: event.code as BillProblemCode, message: event.reason });
    }
  }

  /** The verdict once the bill has ended; `sniffed` (sniffed from the bill's first bytes) names a wrong channel's layout. */
  verdict(sniffed?: BillChannel): BillVerdict {
    const problems = this.problems.map((problem) =>
      problem.code === 'UNRECOGNIZED_FORMAT' && sniffed && sniffed !== this.channel
        ? { code: 'WRONG_CHANNEL' as const, message: `a ${sniffed} bill, not a ${this.channel} one` }
        : problem,
    );
    if (this.outside > 0) {
      problems.push({ code: 'WRONG_DATE', message: `${this.outside} lines fall outside the bill day ${this.date}` });
    }
    return {
      accepted: problems.length === 0,
      problems,
      header: this.header,
      summary: this.summary,
      lines: this.lines,
      errors: this.errors,
      days: [...this.days].sort(),
    };
  }

  private isDateEvidence(line: BillLine): boolean {
    return this.channel !== 'WECHAT_PAY' || line.kind === 'PAYMENT';
  }

  private noteDay(day: string): void {
    if (day !== this.date) this.outside += 1;
    if (this.days.size < 31) this.days.add(day);
  }
}
