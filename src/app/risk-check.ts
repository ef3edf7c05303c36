import type { Merchant } from '#domain/merchant.ts';
import type { PaymentRisk, RiskAssessment, RiskContext, RuleId } from '#domain/risk.ts';
import { activityWrites, limitRequests } from '#domain/risk-limits.ts';
import { assessRisk } from '#domain/risk-rules.ts';
import { RiskRejectedError } from '#shared/errors.ts';
import { logger } from '#shared/observability.ts';
import { type AuditDeps, auditRecord, merchantActor } from './audit.ts';
import type { LimitExceededError, RiskMetrics, RiskStore, RiskWrites, TransactionStore } from './ports.ts';

/** The risk engine's ports; absent `risk` (`RISK_ENGINE=off`): no check, and payments carry an empty ALLOW. */
export interface RiskDeps {
  risk?: RiskStore;
  riskMetrics: RiskMetrics;
}

/** What the payer's request says about who and where they are. */
export interface PayerSignals {
  ip?: string;
  deviceId?: string;
}

/** An admitted check: what the payment keeps, and what its creating transaction must write. */
export interface RiskOutcome {
  risk: PaymentRisk;
  writes: RiskWrites;
}

const LIMIT_RULES: Record<LimitExceededError['counter'], RuleId> = {
  PAYER_DAY: 'limit.payer_day',
  PAYER_MONTH: 'limit.payer_month',
  MERCHANT_DAY: 'limit.merchant_day',
};

/**
 * Checks a new payment before anything is created.
 *
 * Input: the merchant, the payment's amount/currency/payer and the payer's signals.
 * Output: the decision to store on the payment and the writes to fold into its transaction; undefined when off.
 * 1. ONE batched read: configuration, blacklist entries, counters, activity ({@link RiskStore.snapshot}).
 * 2. Every rule judges it ({@link assessRisk}); each decision and fired rule is counted as a metric and logged.
 * 3. BLOCK → `403 RISK_REJECTED` naming the rules; ALLOW / REVIEW → the reservations and activity to write.
 */
export async function checkRisk(
  deps: RiskDeps,
  merchant: Merchant,
  payment: { amountMinor: number; currency: string; payerAccountId?: string },
  signals: PayerSignals,
  now: Date,
): Promise<RiskOutcome | undefined> {
  if (!deps.risk) return undefined;
  const context: RiskContext = {
    now,
    merchantId: merchant.id,
    amountMinor: payment.amountMinor,
    currency: payment.currency,
    ...(payment.payerAccountId !== undefined ? { payerAccountId: payment.payerAccountId } : {}),
    ...(signals.ip !== undefined ? { ip: signals.ip } : {}),
    ...(signals.deviceId !== undefined ? { deviceId: signals.deviceId } : {}),
  };
  const snapshot = await deps.risk.snapshot(context);
  const assessment = assessRisk(context, snapshot);
  record(deps, merchant.id, assessment);
  if (assessment.decision === 'BLOCK') throw new RiskRejectedError(assessment.rules, assessment.score);
  const limits = limitRequests(context, snapshot);
  return {
    risk: {
      score: assessment.score,
      decision: assessment.decision,
      rules: assessment.rules,
      configVersion: assessment.configVersion,
      reservations: limits.map(({ limitMinor: _limit, shards: _shards, ...reservation }) => reservation),
    },
    writes: {
      merchantId: merchant.id,
      amountMinor: payment.amountMinor,
      currency: payment.currency,
      limits,
      activity: activityWrites(context, snapshot.config),
    },
  };
}

/**
 * A limit a racing payment used up between the read and the commit: `403 RISK_REJECTED`, counted like a block;
 * `score` is the one the check computed.
 */
export function rejectedAtCommit(deps: RiskDeps, error: LimitExceededError, score: number): RiskRejectedError {
  const rule = LIMIT_RULES[error.counter];
  deps.riskMetrics.decided('BLOCK', [rule]);
  return new RiskRejectedError([rule], score);
}

/** The attempt a block refused, as the merchant sent it; the payer's IP and device stay out of the audit trail. */
export interface BlockedAttempt {
  orderNo: string;
  amountMinor: number;
  currency: string;
  /** The channel the merchant asked for; `AUTO` when it let the gateway route. */
  channel: string;
}

/**
 * Records a blocked attempt (either path) in the audit trail: ONE `risk.blocked` record on the `payment_attempt`
 * named by its `order_no`, with the rules that fired and the score, never a threshold nor the payer's signals.
 * A blocked creation creates nothing else. Never throws: a failed write is logged and the caller still answers 403.
 */
export async function auditBlocked(
  deps: AuditDeps & { store: TransactionStore },
  merchantId: string,
  attempt: BlockedAttempt,
  rejection: RiskRejectedError,
): Promise<void> {
  try {
    const record = auditRecord(deps, {
      actor: merchantActor(merchantId),
      action: 'risk.blocked',
      merchantId,
      resource: { type: 'payment_attempt', id: attempt.orderNo },
      after: { ...attempt, rules: [...rejection.rules], score: rejection.score },
    });
    await deps.store.commit({ audit: [record] });
  } catch (error) {
    logger.error('blocked attempt not recorded in the audit trail', {
      merchant_id: merchantId,
      order_no: attempt.orderNo,
      rules: rejection.rules,
      error: String(error),
    });
  }
}

function record(deps: RiskDeps, merchantId: string, assessment: RiskAssessment): void {
  deps.riskMetrics.decided(assessment.decision, assessment.rules);
  if (assessment.decision === 'ALLOW' && assessment.rules.length === 0) return;
  // The operator's explanation, rule by rule (thresholds included); merchants see only the rule ids.
  logger.info('risk decision', {
    merchant_id: merchantId,
    decision: assessment.decision,
    score: assessment.score,
    config_version: assessment.configVersion,
    verdicts: assessment.verdicts.filter((verdict) => verdict.fired),
  });
}
