import type { Channel, Payment, PaymentStatus } from './payment.ts';
import {
  epochKey,
  epochOf,
  type LimitReservation,
  type RiskConfig,
  type RiskContext,
  type WindowRule,
} from './risk.ts';

/** A reservation to make at creation, with the limit its counter must stay within (absent: counted, not limited). */
export interface LimitRequest extends LimitReservation {
  limitMinor: number;
}

/** The UTC day (`yyyy-mm-dd`) and month (`yyyy-mm`) a limit counts `at` in. */
export function limitPeriods(at: Date): { day: string; month: string } {
  const iso = at.toISOString();
  return { day: iso.slice(0, 10), month: iso.slice(0, 7) };
}

/**
 * The counters a new payment reserves, in the creating transaction: each one a limit is configured for (a payer's
 * day and month, the merchant's day). Counting only under a limit keeps a gateway without limits free of the
 * writes, and a limit counts the payments created while it is in force (it starts from zero when first set).
 */
export function limitRequests(context: RiskContext, config: RiskConfig): LimitRequest[] {
  const limits = config.limits[context.currency] ?? {};
  const { day, month } = limitPeriods(context.now);
  const base = { merchantId: context.merchantId, currency: context.currency, amountMinor: context.amountMinor };
  const requests: LimitRequest[] = [];
  if (context.payerAccountId !== undefined) {
    const payer = { ...base, payerAccountId: context.payerAccountId };
    if (limits.payerDayMinor !== undefined) {
      requests.push({ ...payer, counter: 'PAYER_DAY', period: day, limitMinor: limits.payerDayMinor });
    }
    if (limits.payerMonthMinor !== undefined) {
      requests.push({ ...payer, counter: 'PAYER_MONTH', period: month, limitMinor: limits.payerMonthMinor });
    }
  }
  if (limits.merchantDayMinor !== undefined) {
    requests.push({ ...base, counter: 'MERCHANT_DAY', period: day, limitMinor: limits.merchantDayMinor });
  }
  return requests;
}

/** A signed change of a counter that goes with a payment's state change (never conditional: the money moved). */
export type CounterDelta =
  | { kind: 'limit'; reservation: LimitReservation; deltaMinor: number }
  | { kind: 'channel'; channel: Channel; day: string; shard?: number; currency: string; deltaMinor: number };

/** Open or paid: the payment holds its limits and its channel's daily volume. */
const HOLDS: ReadonlySet<PaymentStatus> = new Set(['PENDING', 'SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED']);

/**
 * What a transition does to the counters the payment reserved: leaving the open/paid states (closed, expired, failed)
 * gives every reservation back; coming back to them (a verified success after `CLOSED`/`FAILED`, which is never
 * dropped) takes them again, unconditionally. Each transition is one conditional write, so each happens once.
 */
export function counterChanges(before: Payment, after: Payment): CounterDelta[] {
  const held = HOLDS.has(before.status);
  if (held === HOLDS.has(after.status)) return [];
  const sign = held ? -1 : 1;
  const limits: CounterDelta[] = (before.risk?.reservations ?? []).map((reservation) => ({
    kind: 'limit',
    reservation,
    deltaMinor: sign * reservation.amountMinor,
  }));
  const volume = before.channelVolume;
  if (!volume) return limits;
  // Each share goes back to (or is taken again from) the counter shard it was reserved on.
  const shares = volume.shares ?? [{ amountMinor: volume.amountMinor }];
  return [
    ...limits,
    ...shares.map(
      (share): CounterDelta => ({
        kind: 'channel',
        channel: before.channel,
        day: volume.day,
        ...('shard' in share ? { shard: share.shard } : {}),
        currency: before.currency,
        deltaMinor: sign * share.amountMinor,
      }),
    ),
  ];
}

/** What a new payment adds to one subject's activity windows (folded into the creating transaction). */
export interface ActivityWrite {
  subject: 'payer' | 'device' | 'ip';
  /** The account id (a payer is per merchant), the device id or the IP. */
  value: string;
  /** Fixed windows ({@link epochKey}) whose count goes up by one. */
  counts: string[];
  /** Fixed windows the payment's IP / device joins (payer only). */
  ips: { window: string; value: string }[];
  devices: { window: string; value: string }[];
  /** Older windows no rule reads any more (dropped in the same write, so the item stays small). */
  stale: string[];
  /** The payer's running average grows by this payment (only while `anomaly.amount` is configured). */
  average: boolean;
  /** How long the item must live: twice the longest window. */
  keepSeconds: number;
}

/** The activity writes of a new payment: for each subject, the windows (and average) the configuration reads. */
export function activityWrites(context: RiskContext, config: RiskConfig): ActivityWrite[] {
  const { velocity, anomaly } = config;
  const windows = (rule: WindowRule | undefined) => (rule ? [rule.windowSeconds] : []);
  const write = (subject: ActivityWrite['subject'], value: string, counted: number[]): ActivityWrite => {
    const ipWindows = subject === 'payer' && context.ip ? windows(anomaly.payerIps) : [];
    const deviceWindows = subject === 'payer' && context.deviceId ? windows(anomaly.payerDevices) : [];
    const all = [...counted, ...ipWindows, ...deviceWindows];
    const key = (seconds: number, back = 0) => epochKey(seconds, epochOf(context.now, seconds) - back);
    return {
      subject,
      value,
      counts: counted.map((seconds) => key(seconds)),
      ips: ipWindows.map((seconds) => ({ window: key(seconds), value: context.ip as string })),
      devices: deviceWindows.map((seconds) => ({ window: key(seconds), value: context.deviceId as string })),
      stale: [...new Set(all)].flatMap((seconds) => [2, 3, 4].map((back) => key(seconds, back))),
      keepSeconds: 2 * Math.max(60, ...all),
      average: subject === 'payer' && anomaly.amountMultiple !== undefined,
    };
  };
  const writes: ActivityWrite[] = [];
  if (context.payerAccountId !== undefined) {
    writes.push(write('payer', context.payerAccountId, windows(velocity.payer)));
  }
  if (context.deviceId !== undefined) writes.push(write('device', context.deviceId, windows(velocity.device)));
  if (context.ip !== undefined) writes.push(write('ip', context.ip, windows(velocity.ip)));
  // Nothing configured reads a subject's activity: no write at all.
  return writes.filter((w) => w.counts.length + w.ips.length + w.devices.length > 0 || w.average);
}

/** The per-payment items a check reads besides the configuration and the blacklist (each true = read it). */
export interface SnapshotReads {
  payerDay: boolean;
  payerMonth: boolean;
  merchantDay: boolean;
  payerActivity: boolean;
  deviceActivity: boolean;
  ipActivity: boolean;
}

/**
 * What a check must read for `config`: the counters of the limits it configures and the activity its rules read —
 * nothing for rules that are not configured (a merchant-wide counter read by every payment is a hot key at scale).
 */
export function snapshotReads(context: RiskContext, config: RiskConfig): SnapshotReads {
  const counters = new Set(limitRequests(context, config).map((request) => request.counter));
  const { velocity, anomaly } = config;
  const payerRules = velocity.payer ?? anomaly.payerIps ?? anomaly.payerDevices ?? anomaly.amountMultiple;
  return {
    payerDay: counters.has('PAYER_DAY'),
    payerMonth: counters.has('PAYER_MONTH'),
    merchantDay: counters.has('MERCHANT_DAY'),
    payerActivity: context.payerAccountId !== undefined && payerRules !== undefined,
    deviceActivity: context.deviceId !== undefined && velocity.device !== undefined,
    ipActivity: context.ip !== undefined && velocity.ip !== undefined,
  };
}
