import type { Channel, Payment, PaymentStatus } from './payment.ts';
import {
  epochKey,
  epochOf,
  type LimitReservation,
  type RiskConfig,
  type RiskContext,
  type RiskSnapshot,
  type WindowRule,
} from './risk.ts';
import { planShares, reservedParts, shardCount } from './sharded-limit.ts';

/**
 * The most counters one merchant-day reservation takes from: its shares join the payment's creating transaction
 * (at most 100 items), and a split is the slow path. A payment the day's room covers only over more counters than
 * this is refused (`limit.merchant_day`, 403 `RISK_REJECTED`); operators choose counts that keep a payment's
 * largest amount within this many counters' shares (`docs/risk.md`, "Merchant-day counters").
 */
export const MERCHANT_DAY_MAX_SHARES = 10;

/** The most counters an operator can give the merchant-day limit. */
export const MERCHANT_DAY_MAX_SHARDS = 256;

/** A count change applies from the first UTC day that starts at least this long after it (container caches). */
export const SHARD_CHANGE_MARGIN_MS = 60 * 60 * 1000;

/** How many counters the merchant-day limit of `day` is kept on under `config` (1: the unsharded counter). */
export function merchantDayShards(config: RiskConfig, day: string): number {
  return shardCount(config.merchantDayShards ?? [], day);
}

/**
 * A reservation to make at creation, with the limit its counter must stay within; `shards`: the day's count of a
 * sharded merchant day (each share within its counter's share of the limit).
 */
export interface LimitRequest extends LimitReservation {
  limitMinor: number;
  shards?: number;
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
 * A sharded merchant day reserves the shares planned from the counters read (`planShares`); when none fit, the
 * whole amount on the counter read, which its conditional write then refuses.
 */
export function limitRequests(
  context: RiskContext,
  snapshot: Pick<RiskSnapshot, 'config' | 'merchantDay'>,
): LimitRequest[] {
  return configuredLimits(context, snapshot.config).map((request) => {
    const { shards, totals } = snapshot.merchantDay;
    if (request.counter !== 'MERCHANT_DAY' || shards === 1) return request;
    const planned = planShares(snapshot.merchantDay, request.limitMinor, request.amountMinor, MERCHANT_DAY_MAX_SHARES);
    const shares = planned ?? [{ shard: totals[0]?.shard ?? 0, amountMinor: request.amountMinor }];
    return { ...request, shards, shares };
  });
}

/** The limits configured for this context's payment (a payer's day and month, the merchant's day), unsharded. */
function configuredLimits(context: RiskContext, config: RiskConfig): LimitRequest[] {
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
  | { kind: 'limit'; reservation: LimitReservation; shard?: number; deltaMinor: number }
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
  // Each share goes back to (or is taken again from) the counter shard it was reserved on.
  const limits = (before.risk?.reservations ?? []).flatMap((reservation) =>
    reservedParts(reservation.amountMinor, reservation.shares).map(
      ({ shard, amountMinor }): CounterDelta => ({
        kind: 'limit',
        reservation,
        ...(shard !== undefined ? { shard } : {}),
        deltaMinor: sign * amountMinor,
      }),
    ),
  );
  const volume = before.channelVolume;
  if (!volume) return limits;
  return [
    ...limits,
    ...reservedParts(volume.amountMinor, volume.shares).map(
      ({ shard, amountMinor }): CounterDelta => ({
        kind: 'channel',
        channel: before.channel,
        day: volume.day,
        ...(shard !== undefined ? { shard } : {}),
        currency: before.currency,
        deltaMinor: sign * amountMinor,
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
  const counters = new Set(configuredLimits(context, config).map((request) => request.counter));
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
