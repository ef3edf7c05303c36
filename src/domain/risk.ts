/**
 * The risk model: rule ids, the operator's configuration, what a check reads (the snapshot) and what a payment keeps of
 * its decision. The rules themselves are in `risk-rules.ts`; limit reservations and their release in `risk-limits.ts`.
 */
import type { CountersRead, ShardStep, Share } from './sharded-limit.ts';

/** Hard rules block on their own (score 100): blacklists and amount limits. */
export const HARD_RULES = [
  'blacklist.payer',
  'blacklist.device',
  'blacklist.ip',
  'blacklist.merchant',
  'limit.payment',
  'limit.payer_day',
  'limit.payer_month',
  'limit.merchant_day',
] as const;

/** Soft rules add their configured weight to the score: velocity and anomaly signals. */
export const SOFT_RULES = [
  'velocity.payer',
  'velocity.device',
  'velocity.ip',
  'anomaly.amount',
  'anomaly.payer_ips',
  'anomaly.payer_devices',
] as const;

export type HardRuleId = (typeof HARD_RULES)[number];
export type SoftRuleId = (typeof SOFT_RULES)[number];
export type RuleId = HardRuleId | SoftRuleId;
export const RULE_IDS: readonly RuleId[] = [...HARD_RULES, ...SOFT_RULES];

/** Amount limits of one currency, in minor units; an absent limit is not enforced. */
export interface AmountLimits {
  paymentMinor?: number;
  payerDayMinor?: number;
  payerMonthMinor?: number;
  merchantDayMinor?: number;
}

/** At most `max` events in the last `windowSeconds` (velocity: payments; anomaly: distinct IPs or devices). */
export interface WindowRule {
  max: number;
  windowSeconds: number;
}

/**
 * The operator's risk configuration, stored in the table and versioned (every change is a new version): one for the
 * gateway, and optionally one per merchant that replaces it for that merchant's payments.
 */
export interface RiskConfig {
  version: number;
  /** Per ISO 4217 currency. */
  limits: Record<string, AmountLimits>;
  velocity: { payer?: WindowRule; device?: WindowRule; ip?: WindowRule };
  anomaly: {
    /** `anomaly.amount` fires when the amount exceeds `multiple` × the payer's running average... */
    amountMultiple?: number;
    /** ...once the payer has at least this many earlier payments in the currency. */
    minPayments: number;
    payerIps?: WindowRule;
    payerDevices?: WindowRule;
  };
  /**
   * How many counters the merchant-day limit is kept on, by first UTC day (`sharded-limit.ts`; absent or before the
   * first step: the one unsharded counter). Operators set a count; it applies from a later day (`changePlan`).
   */
  merchantDayShards?: ShardStep[];
  /** Points (0–100) each soft rule adds to the score when it fires. */
  weights: Record<SoftRuleId, number>;
  /** score ≥ `review` → REVIEW, score ≥ `block` → BLOCK (1 ≤ review ≤ block ≤ 100). */
  thresholds: { review: number; block: number };
  /** Set on a merchant's own configuration. */
  merchantId?: string;
  updatedAt?: string;
  updatedBy?: string;
}

/**
 * The configuration in force before an operator sets one (version 0): no limits, no velocity or anomaly rules, so
 * only blacklists act. `docs/risk.md` gives a starter configuration.
 */
export const DEFAULT_RISK_CONFIG: RiskConfig = {
  version: 0,
  limits: {},
  velocity: {},
  anomaly: { minPayments: 5 },
  weights: {
    'velocity.payer': 40,
    'velocity.device': 40,
    'velocity.ip': 30,
    'anomaly.amount': 50,
    'anomaly.payer_ips': 30,
    'anomaly.payer_devices': 30,
  },
  thresholds: { review: 50, block: 90 },
};

/** The kinds of blacklist entries; a payer account is per merchant (accounts are a merchant's own). */
export const BLACKLIST_KINDS = ['payer', 'device', 'ip', 'merchant'] as const;
export type BlacklistKind = (typeof BLACKLIST_KINDS)[number];

/** One operator-managed blacklist entry; an `ip` value may be a CIDR range. */
export interface BlacklistEntry {
  kind: BlacklistKind;
  /** payer: the account id (with `merchantId`); device: the device id; ip: an address or CIDR; merchant: its id. */
  value: string;
  merchantId?: string;
  reason?: string;
  /** Absent: never expires. */
  expiresAt?: string;
  addedAt: string;
  addedBy: string;
}

/**
 * A subject's activity in fixed windows: `counts[epochKey(w, e)]` payments in window `e` of length `w` seconds (the
 * sliding window is estimated from the current and the previous window); `ips`/`devices` the distinct values seen.
 */
export interface WindowActivity {
  counts: Record<string, number>;
  ips: Record<string, string[]>;
  devices: Record<string, string[]>;
}

/** The name of fixed window `epoch` of `windowSeconds` (it changes when an operator changes the window). */
export function epochKey(windowSeconds: number, epoch: number): string {
  return `${windowSeconds}_${epoch}`;
}

/** The fixed window of `windowSeconds` that `now` falls in. */
export function epochOf(now: Date, windowSeconds: number): number {
  return Math.floor(now.getTime() / 1000 / windowSeconds);
}

/** Who is paying, from where, how much: what the rules judge. */
export interface RiskContext {
  now: Date;
  merchantId: string;
  /** `payer_account_id`, else the recharged `account_id`; absent: the payer rules do not apply. */
  payerAccountId?: string;
  deviceId?: string;
  ip?: string;
  amountMinor: number;
  currency: string;
}

/** Everything the rules read, fetched in ONE batched read. Counters are the current period's reserved totals. */
export interface RiskSnapshot {
  config: RiskConfig;
  /** Entries found for this context (exact values), expired ones included: the rules decide. */
  blacklist: BlacklistEntry[];
  /** Every CIDR/IP range entry (one item). */
  ipRanges: BlacklistEntry[];
  payerDayMinor: number;
  payerMonthMinor: number;
  /** The merchant's day counters read: one picked at random, or every one when it lacked room for this payment. */
  merchantDay: CountersRead;
  payerActivity: WindowActivity;
  deviceActivity: WindowActivity;
  ipActivity: WindowActivity;
  /** The payer's admitted payments in this currency so far (running average = sum / count). */
  payerStats: { count: number; sumMinor: number };
}

/** One rule's verdict, with the reason an operator reads (it may name thresholds; merchants never see it). */
export interface RuleVerdict {
  rule: RuleId;
  fired: boolean;
  reason: string;
}

export type RiskDecision = 'ALLOW' | 'REVIEW' | 'BLOCK';

/** The decision of one check: every rule's verdict, the score and what it maps to. */
export interface RiskAssessment {
  verdicts: RuleVerdict[];
  score: number;
  decision: RiskDecision;
  /** The ids of the rules that fired, in rule order. */
  rules: RuleId[];
  configVersion: number;
}

/** A held payment's review: pending until an operator approves or rejects it. */
export interface RiskReview {
  status: 'PENDING' | 'APPROVED' | 'REJECTED';
  decidedAt?: string;
  decidedBy?: string;
  note?: string;
}

/** The counters a limit reservation adds to (a payer's day and month, the merchant's day). */
export type LimitCounter = 'PAYER_DAY' | 'PAYER_MONTH' | 'MERCHANT_DAY';

/** An amount reserved on one counter of one period (UTC day `yyyy-mm-dd` or month `yyyy-mm`). */
export interface LimitReservation {
  counter: LimitCounter;
  merchantId: string;
  payerAccountId?: string;
  period: string;
  currency: string;
  amountMinor: number;
  /** A sharded merchant day: the counters the amount was taken from (absent: the period's one counter). */
  shares?: Share[];
}

/** What a payment keeps of its risk check (stored on the payment; `risk` in the API). */
export interface PaymentRisk {
  score: number;
  decision: 'ALLOW' | 'REVIEW';
  rules: RuleId[];
  configVersion: number;
  /** The limit counters this payment holds; given back once when it closes or fails. */
  reservations: LimitReservation[];
  /** Present on a REVIEW payment. */
  review?: RiskReview;
}

/** A held payment is not registered at its channel (no pay URL) until approved, so nothing can pay it. */
export function isHeld(risk: PaymentRisk | undefined): boolean {
  return risk?.review?.status === 'PENDING';
}
