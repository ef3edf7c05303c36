/**
 * Fees (the seeds' 手续费处理): who bears a payment's fee, how it is calculated and which schedule version applied.
 *
 * - The **channel fee** is what the channel charged, taken from its data (the bill's fee column); the channel deducts
 *   it from the gateway's settlement with the channel.
 * - The **merchant fee** is what the gateway charges the merchant, from a versioned **fee schedule**: per channel and
 *   method, a percentage of the amount plus a fixed amount, and who bears it (`MERCHANT`: deducted from the merchant's
 *   settlement; `GATEWAY`: computed and recorded, absorbed by the gateway, never deducted).
 *
 * Rounding (all amounts integer minor units, arithmetic in big.js): the percentage part is rounded half up to the
 * minor unit, the fixed part is converted to the payment's currency half up; the fee never exceeds the amount (the
 * percentage part is capped first, then the fixed part). On a refund the gateway returns the percentage part in
 * proportion to the refunded amount, rounded DOWN (so the returns of several partial refunds never add up to more
 * than was charged; a full refund in one go returns it exactly); the fixed part is never returned.
 */
import Big from 'big.js';
import { exponentOf } from '#domain/money.ts';
import { CHANNELS, type Channel, PAY_METHODS, type PayMethod } from '#domain/payment.ts';

/** Who bears a fee: the merchant (deducted from its settlement) or the gateway (absorbed). */
export const FEE_BEARERS = ['MERCHANT', 'GATEWAY'] as const;
export type FeeBearer = (typeof FEE_BEARERS)[number];

/** The scope of the default schedule (every merchant without its own rule for a channel/method). */
export const DEFAULT_FEE_SCOPE = 'DEFAULT';

/** One rule of a schedule: the fee of a channel's payments by one method (`*`: any method without its own rule). */
export interface FeeRule {
  channel: Channel;
  method: PayMethod | '*';
  /** Percentage of the amount as a decimal string (`"0.6"` = 0.6 %), 0–100, at most 4 fraction digits. */
  percent: string;
  /** Fixed amount per payment in the payment's currency, major units (`"0.10"`); `"0"` for none. */
  fixed: string;
  bearer: FeeBearer;
}

/** One immutable version of a schedule: its rules, from `effectiveFrom` on (until the next version's). */
export interface FeeScheduleVersion {
  version: number;
  /** ISO 8601 UTC; never before the time it was set, so a paid payment's fee never changes afterwards. */
  effectiveFrom: string;
  rules: FeeRule[];
  setAt: string;
}

/** A scope's schedule (a merchant id or {@link DEFAULT_FEE_SCOPE}) with every version it ever had, oldest first. */
export interface FeeSchedule {
  scope: string;
  versions: FeeScheduleVersion[];
}

/** A payment's merchant fee in minor units, split in its parts, with the rule's bearer and where it came from. */
export interface FeeCharge {
  feeMinor: number;
  percentMinor: number;
  fixedMinor: number;
  bearer: FeeBearer;
  /** `{scope}@v{version}` of the schedule whose rule applied, or `none` (no rule: no fee). */
  source: string;
}

const PERCENT = /^(0|[1-9][0-9]{0,2})(\.[0-9]{1,4})?$/;
const FIXED = /^(0|[1-9][0-9]{0,8})(\.[0-9]{1,4})?$/;

/** Problems with a rule's values (empty when valid). */
export function feeRuleProblems(rule: FeeRule): string[] {
  const problems: string[] = [];
  if (!CHANNELS.includes(rule.channel)) problems.push(`channel must be one of ${CHANNELS.join(', ')}`);
  if (rule.method !== '*' && !PAY_METHODS.includes(rule.method)) {
    problems.push(`method must be * or one of ${PAY_METHODS.join(', ')}`);
  }
  if (!PERCENT.test(rule.percent) || new Big(rule.percent).gt(100)) {
    problems.push('percent must be a decimal 0–100 with at most 4 fraction digits (0.6 = 0.6 %)');
  }
  if (!FIXED.test(rule.fixed)) problems.push('fixed must be a non-negative decimal with at most 4 fraction digits');
  if (!FEE_BEARERS.includes(rule.bearer)) problems.push(`bearer must be one of ${FEE_BEARERS.join(', ')}`);
  return problems;
}

/** The version of a schedule in force at `at` (ISO 8601), or undefined before its first one. */
export function versionAt(schedule: FeeSchedule | undefined, at: string): FeeScheduleVersion | undefined {
  const time = Date.parse(at);
  let found: FeeScheduleVersion | undefined;
  for (const version of schedule?.versions ?? []) {
    if (Date.parse(version.effectiveFrom) <= time && (!found || version.version > found.version)) found = version;
  }
  return found;
}

/** The rule of a version for a channel and method: the method's own, else the channel's `*` rule. */
export function ruleOf(version: FeeScheduleVersion | undefined, channel: Channel, method: PayMethod) {
  const rules = version?.rules ?? [];
  return (
    rules.find((rule) => rule.channel === channel && rule.method === method) ??
    rules.find((rule) => rule.channel === channel && rule.method === '*')
  );
}

/**
 * The rule that prices a payment made at `at`: the merchant's schedule's (in force then), else the default
 * schedule's; with the `{scope}@v{version}` it came from.
 */
export function feeRuleFor(
  schedules: { merchant?: FeeSchedule; default?: FeeSchedule },
  payment: { channel: Channel; method: PayMethod },
  at: string,
): { rule: FeeRule; source: string } | undefined {
  for (const schedule of [schedules.merchant, schedules.default]) {
    const version = versionAt(schedule, at);
    const rule = ruleOf(version, payment.channel, payment.method);
    if (schedule && version && rule) return { rule, source: `${schedule.scope}@v${version.version}` };
  }
  return undefined;
}

/** The merchant fee of a payment of `amountMinor` under `rule` (no rule: a zero fee borne by the merchant). */
export function paymentFee(
  priced: { rule: FeeRule; source: string } | undefined,
  amountMinor: number,
  currency: string,
): FeeCharge {
  if (!priced) return { feeMinor: 0, percentMinor: 0, fixedMinor: 0, bearer: 'MERCHANT', source: 'none' };
  const { rule, source } = priced;
  const percent = new Big(amountMinor).times(rule.percent).div(100).round(0, Big.roundHalfUp).toNumber();
  const fixed = new Big(rule.fixed)
    .times(new Big(10).pow(exponentOf(currency)))
    .round(0, Big.roundHalfUp)
    .toNumber();
  const percentMinor = Math.max(0, Math.min(amountMinor, percent));
  const fixedMinor = Math.max(0, Math.min(amountMinor - percentMinor, fixed));
  return { feeMinor: percentMinor + fixedMinor, percentMinor, fixedMinor, bearer: rule.bearer, source };
}

/**
 * What a refund of `refundMinor` of a payment of `paymentMinor` returns of the payment's merchant fee: the percentage
 * part in proportion, rounded down (see the module comment); the fixed part is kept. Same bearer and source.
 */
export function refundFeeReturn(charge: FeeCharge, paymentMinor: number, refundMinor: number): FeeCharge {
  const refunded = Math.min(Math.max(refundMinor, 0), paymentMinor);
  const percentMinor =
    paymentMinor <= 0
      ? 0
      : new Big(charge.percentMinor).times(refunded).div(paymentMinor).round(0, Big.roundDown).toNumber();
  return { ...charge, feeMinor: percentMinor, percentMinor, fixedMinor: 0 };
}

/**
 * A schedule's next version: `rules` replace the latest version's rule of the same channel and method (`remove`
 * drops it instead), effective from `effectiveFrom` (default: `now`; never earlier than now or than the latest
 * version's, so a paid payment's fee never changes). Throws a message on invalid input.
 */
export function nextFeeVersion(
  schedule: FeeSchedule | undefined,
  change: { rule: FeeRule; remove?: false } | { rule: Pick<FeeRule, 'channel' | 'method'>; remove: true },
  now: Date,
  effectiveFrom?: string,
): FeeScheduleVersion {
  const latest = schedule?.versions.at(-1);
  const from = effectiveFrom === undefined ? now.getTime() : Date.parse(effectiveFrom);
  if (Number.isNaN(from)) throw new Error('effective_from must be an ISO 8601 time');
  if (from < now.getTime()) throw new Error('effective_from cannot be in the past: paid payments keep their fees');
  if (latest && from < Date.parse(latest.effectiveFrom)) {
    throw new Error(`effective_from cannot precede the latest version's (${latest.effectiveFrom})`);
  }
  const same = (rule: FeeRule) => rule.channel === change.rule.channel && rule.method === change.rule.method;
  const kept = (latest?.rules ?? []).filter((rule) => !same(rule));
  if (change.remove) {
    if (kept.length === (latest?.rules.length ?? 0)) throw new Error('no such rule to remove');
    return version(latest, kept, from, now);
  }
  const problems = feeRuleProblems(change.rule);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const rules = [...kept, change.rule].sort((a, b) =>
    `${a.channel} ${a.method}`.localeCompare(`${b.channel} ${b.method}`),
  );
  return version(latest, rules, from, now);
}

function version(latest: FeeScheduleVersion | undefined, rules: FeeRule[], from: number, now: Date) {
  return {
    version: (latest?.version ?? 0) + 1,
    effectiveFrom: new Date(from).toISOString(),
    rules,
    setAt: now.toISOString(),
  };
}
