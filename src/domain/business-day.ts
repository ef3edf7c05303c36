/**
 * A channel's business day: the calendar day in the channel's settlement time zone. Alipay and WeChat Pay cut their
 * bills at midnight Asia/Shanghai; the sandbox follows the same zone unless the deployment configures another
 * (`SANDBOX_SETTLEMENT_TIME_ZONE`). The GSI2 channel-day key, the bill check, the reconciliation window, the reports
 * and `GET /v1/reconciliations/{date}` all use this one day, so a `date` names the same instants everywhere.
 */
import type { Channel } from '#domain/payment.ts';

/** The settlement time zone (IANA name) of each channel. */
export type SettlementTimeZones = Readonly<Record<Channel, string>>;

/** Where Alipay and WeChat Pay settle, and the default of every other channel. */
export const SHANGHAI = 'Asia/Shanghai';

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The channels' zones: Asia/Shanghai for Alipay and WeChat Pay (fixed by the channels), `sandbox` for the sandbox
 * (default Asia/Shanghai), and the balance channel with the sandbox (the gateway's own ledger has no bill).
 */
export function settlementTimeZones(sandbox: string = SHANGHAI): SettlementTimeZones {
  if (!isTimeZone(sandbox)) throw new Error(`not an IANA time zone: ${sandbox}`);
  return { ALIPAY: SHANGHAI, WECHAT_PAY: SHANGHAI, SANDBOX: sandbox, BALANCE: sandbox };
}

const formats = new Map<string, Intl.DateTimeFormat>();

function format(zone: string): Intl.DateTimeFormat {
  let found = formats.get(zone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(zone, found);
  }
  return found;
}

/** Milliseconds `zone` is ahead of UTC at the instant `ms`. */
function offsetAt(zone: string, ms: number): number {
  const parts = Object.fromEntries(
    format(zone)
      .formatToParts(ms)
      .map((part) => [part.type, part.value]),
  );
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return wall - (ms - (ms % 1000));
}

/** The business day (`YYYY-MM-DD` in `zone`) of an ISO instant. */
export function businessDayOf(zone: string, iso: string): string {
  const ms = Date.parse(iso);
  return new Date(ms + offsetAt(zone, ms)).toISOString().slice(0, 10);
}

/** The first instant (epoch ms) of the business day `date` in `zone`. */
function dayStart(zone: string, date: string): number {
  const midnight = Date.parse(`${date}T00:00:00Z`);
  let start = midnight - offsetAt(zone, midnight);
  // Once more at the guess: the offset may differ there (a DST change near midnight).
  start = midnight - offsetAt(zone, start);
  return start;
}

/** The instants `[from, to)` of the business day `date` in `zone` (24 hours, or 23/25 across a DST change). */
export function businessDayWindow(zone: string, date: string): { from: string; to: string } {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { from: new Date(dayStart(zone, date)).toISOString(), to: new Date(dayStart(zone, next)).toISOString() };
}

/** The business day before the one `now` falls on, in `zone` (what a daily job reconciles). */
export function previousBusinessDay(zone: string, now: Date): string {
  const today = businessDayOf(zone, now.toISOString());
  return new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
}
