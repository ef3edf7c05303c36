import { formatAmount, isSupportedCurrency, limitToMinor } from '#domain/money.ts';
import {
  type AmountLimits,
  BLACKLIST_KINDS,
  type BlacklistEntry,
  type BlacklistKind,
  DEFAULT_RISK_CONFIG,
  type RiskConfig,
  SOFT_RULES,
  type WindowRule,
} from '#domain/risk.ts';
import { MERCHANT_DAY_MAX_SHARDS, MERCHANT_DAY_MAX_SHARES, SHARD_CHANGE_MARGIN_MS } from '#domain/risk-limits.ts';
import { ipMatches } from '#domain/risk-rules.ts';
import { changePlan } from '#domain/sharded-limit.ts';
import { NotFoundError, ValidationError } from '#shared/errors.ts';
import * as z from '#shared/zod.ts';
import { type AuditDeps, auditRecord } from './audit.ts';
import type { RiskStore } from './ports.ts';
import { currentRequestContext } from './request-context.ts';
import { parseInput } from './validation.ts';

export interface RiskAdminDeps extends AuditDeps {
  riskStore: RiskStore;
}

const amount = z.string().check(z.regex(/^(0|[1-9][0-9]*)(\.[0-9]+)?$/, 'a decimal amount in major units'));
const windowRule = z.strictObject({
  max: z.number().check(z.int(), z.gte(1), z.lte(1_000_000)),
  window_seconds: z.number().check(z.int(), z.gte(1), z.lte(86_400)),
});
const limits = z.strictObject({
  payment: z.optional(amount),
  payer_day: z.optional(amount),
  payer_month: z.optional(amount),
  merchant_day: z.optional(amount),
});
const score = z.number().check(z.int(), z.gte(0), z.lte(100));

/** The configuration as operators write it (snake_case, decimal amounts per currency); every section optional. */
export const riskConfigSchema = z
  .strictObject({
    limits: z.optional(z.record(z.string().check(z.regex(/^[A-Z]{3}$/)), limits)),
    velocity: z.optional(
      z.strictObject({ payer: z.optional(windowRule), device: z.optional(windowRule), ip: z.optional(windowRule) }),
    ),
    anomaly: z.optional(
      z.strictObject({
        amount_multiple: z.optional(z.number().check(z.gte(1), z.lte(1000))),
        min_payments: z.optional(z.number().check(z.int(), z.gte(1), z.lte(10_000))),
        payer_ips: z.optional(windowRule),
        payer_devices: z.optional(windowRule),
      }),
    ),
    weights: z.optional(z.partialRecord(z.enum(SOFT_RULES), score)),
    /** How many counters the merchant-day limit is kept on; applies from a later UTC day (`changePlan`). */
    merchant_day_shards: z.optional(z.number().check(z.int(), z.gte(1), z.lte(MERCHANT_DAY_MAX_SHARDS))),
    thresholds: z.optional(z.strictObject({ review: score.check(z.gte(1)), block: score.check(z.gte(1)) })),
  })
  .check(
    z.refine((config) => !config.thresholds || config.thresholds.review <= config.thresholds.block, {
      message: 'thresholds: review must not exceed block',
    }),
  );

export type RiskConfigInput = z.input<typeof riskConfigSchema>;

/**
 * Sets a new version of the gateway's (or one merchant's) configuration: the sections given replace the current
 * ones, the others are kept. Conditional on the version read (a concurrent change → retry), audited with it.
 */
export async function setRiskConfig(deps: RiskAdminDeps, input: unknown, merchantId?: string): Promise<RiskConfig> {
  const patch = parseInput(riskConfigSchema, input);
  const own = await deps.riskStore.config(merchantId);
  // A merchant's first own version starts from the gateway's rules, numbered from 1.
  const current = own ?? (await deps.riskStore.config()) ?? DEFAULT_RISK_CONFIG;
  const previousVersion = own?.version ?? 0;
  const now = deps.clock().toISOString();
  const next: RiskConfig = {
    ...current,
    ...(patch.limits ? { limits: limitsOf(patch.limits) } : {}),
    ...(patch.velocity ? { velocity: windowsOf(patch.velocity) } : {}),
    ...(patch.anomaly
      ? {
          anomaly: {
            minPayments: patch.anomaly.min_payments ?? current.anomaly.minPayments,
            ...(patch.anomaly.amount_multiple !== undefined ? { amountMultiple: patch.anomaly.amount_multiple } : {}),
            ...windowsOf({ payerIps: patch.anomaly.payer_ips, payerDevices: patch.anomaly.payer_devices }),
          },
        }
      : {}),
    ...(patch.weights ? { weights: { ...current.weights, ...patch.weights } } : {}),
    ...(patch.thresholds ? { thresholds: patch.thresholds } : {}),
    ...(patch.merchant_day_shards !== undefined
      ? {
          merchantDayShards: changePlan(
            current.merchantDayShards ?? [],
            patch.merchant_day_shards,
            deps.clock(),
            SHARD_CHANGE_MARGIN_MS,
          ),
        }
      : {}),
    version: previousVersion + 1,
    updatedAt: now,
    updatedBy: currentRequestContext().actor?.id ?? 'unknown',
    ...(merchantId !== undefined ? { merchantId } : {}),
  };
  if (next.thresholds.review > next.thresholds.block) {
    throw new ValidationError('VALIDATION_FAILED', 'thresholds: review must not exceed block');
  }
  assertShardCounts(next);
  await deps.riskStore.putConfig(
    next,
    auditRecord(deps, {
      action: 'risk.config_changed',
      ...(merchantId !== undefined ? { merchantId } : {}),
      resource: { type: 'risk_config', id: merchantId ?? 'gateway' },
      before: { version: previousVersion },
      after: { version: next.version, config: configView(next) },
    }),
  );
  return next;
}

/** The configuration as operators read it (the same shape `riskConfigSchema` takes). */
export function configView(config: RiskConfig) {
  const window = (rule: WindowRule | undefined) =>
    rule ? { max: rule.max, window_seconds: rule.windowSeconds } : undefined;
  return {
    version: config.version,
    merchant_id: config.merchantId ?? null,
    limits: Object.fromEntries(
      Object.entries(config.limits).map(([currency, set]) => [
        currency,
        {
          payment: format(set.paymentMinor, currency),
          payer_day: format(set.payerDayMinor, currency),
          payer_month: format(set.payerMonthMinor, currency),
          merchant_day: format(set.merchantDayMinor, currency),
        },
      ]),
    ),
    velocity: {
      payer: window(config.velocity.payer),
      device: window(config.velocity.device),
      ip: window(config.velocity.ip),
    },
    anomaly: {
      amount_multiple: config.anomaly.amountMultiple,
      min_payments: config.anomaly.minPayments,
      payer_ips: window(config.anomaly.payerIps),
      payer_devices: window(config.anomaly.payerDevices),
    },
    weights: config.weights,
    /** The merchant-day counters by first UTC day (empty: the one unsharded counter). */
    merchant_day_shards: config.merchantDayShards ?? [],
    thresholds: config.thresholds,
    updated_at: config.updatedAt ?? null,
    updated_by: config.updatedBy ?? null,
  };
}

/** Adds (or replaces) a blacklist entry; audited. An `ip` value is an address or a CIDR range. */
export async function addBlacklistEntry(
  deps: RiskAdminDeps,
  input: { kind: string; value: string; merchantId?: string; reason?: string; expiresAt?: string },
): Promise<BlacklistEntry> {
  const kind = blacklistKind(input.kind);
  if (kind === 'payer' && !input.merchantId) throw invalid('a payer entry needs the merchant id');
  if (kind === 'ip' && !ipMatches(input.value, input.value.split('/')[0] ?? '')) {
    throw invalid(`not an IP address or CIDR range: ${input.value}`);
  }
  if (input.expiresAt !== undefined && Number.isNaN(Date.parse(input.expiresAt))) {
    throw invalid('expires_at must be an ISO 8601 time');
  }
  const entry: BlacklistEntry = {
    kind,
    value: input.value,
    ...(kind === 'payer' ? { merchantId: input.merchantId } : {}),
    ...(input.reason ? { reason: input.reason } : {}),
    ...(input.expiresAt ? { expiresAt: new Date(input.expiresAt).toISOString() } : {}),
    addedAt: deps.clock().toISOString(),
    addedBy: currentRequestContext().actor?.id ?? 'unknown',
  };
  await deps.riskStore.putBlacklist(
    entry,
    auditRecord(deps, {
      action: 'risk.blacklist_added',
      ...(entry.merchantId ? { merchantId: entry.merchantId } : {}),
      resource: { type: 'risk_blacklist', id: `${kind}:${input.value}` },
      after: { ...entry },
    }),
  );
  return entry;
}

/** Removes a blacklist entry; audited. `404` when there is none. */
export async function removeBlacklistEntry(
  deps: RiskAdminDeps,
  input: { kind: string; value: string; merchantId?: string },
): Promise<void> {
  const kind = blacklistKind(input.kind);
  const audit = auditRecord(deps, {
    action: 'risk.blacklist_removed',
    ...(input.merchantId ? { merchantId: input.merchantId } : {}),
    resource: { type: 'risk_blacklist', id: `${kind}:${input.value}` },
  });
  const merchantId = kind === 'payer' ? input.merchantId : undefined;
  if (!(await deps.riskStore.removeBlacklist(kind, input.value, merchantId, audit))) {
    throw new NotFoundError(`no ${kind} blacklist entry ${input.value}`);
  }
}

function blacklistKind(kind: string): BlacklistKind {
  if (!(BLACKLIST_KINDS as readonly string[]).includes(kind)) {
    throw invalid(`kind must be one of ${BLACKLIST_KINDS.join(', ')}`);
  }
  return kind as BlacklistKind;
}

function limitsOf(input: Record<string, z.output<typeof limits>>): Record<string, AmountLimits> {
  return Object.fromEntries(
    Object.entries(input).map(([currency, set]) => {
      if (!isSupportedCurrency(currency)) throw invalid(`currency ${currency} is not supported`);
      const minor = (value: string | undefined) =>
        value === undefined ? undefined : limitToMinor(value, currency, 'down');
      const out: AmountLimits = {};
      const payment = minor(set.payment);
      const payerDay = minor(set.payer_day);
      const payerMonth = minor(set.payer_month);
      const merchantDay = minor(set.merchant_day);
      if (payment !== undefined) out.paymentMinor = payment;
      if (payerDay !== undefined) out.payerDayMinor = payerDay;
      if (payerMonth !== undefined) out.payerMonthMinor = payerMonth;
      if (merchantDay !== undefined) out.merchantDayMinor = merchantDay;
      return [currency, out];
    }),
  );
}

/**
 * Every merchant-day count of the plan must suit each currency's limits: each counter's share at least one minor
 * unit, and a payment of the largest allowed amount coverable by {@link MERCHANT_DAY_MAX_SHARES} counters' shares.
 */
function assertShardCounts(config: RiskConfig): void {
  const shards = Math.max(1, ...(config.merchantDayShards ?? []).map((step) => step.shards));
  if (shards === 1) return;
  for (const [currency, set] of Object.entries(config.limits)) {
    const day = set.merchantDayMinor;
    if (day === undefined) continue;
    if (shards > day)
      throw invalid(
        `merchant_day_shards: ${shards} counters need a ${currency} merchant_day limit of at least ${shards} minor units`,
      );
    const payment = set.paymentMinor;
    if (payment !== undefined && payment > MERCHANT_DAY_MAX_SHARES * Math.floor(day / shards)) {
      const most = Math.floor(day / Math.ceil(payment / MERCHANT_DAY_MAX_SHARES));
      throw invalid(
        `merchant_day_shards: a ${currency} payment of up to ${formatAmount(payment, currency)} would need more than ${MERCHANT_DAY_MAX_SHARES} of ${shards} counters; at most ${most} suit these limits`,
      );
    }
  }
}

function windowsOf<K extends string>(
  input: Partial<Record<K, z.output<typeof windowRule> | undefined>>,
): Partial<Record<K, WindowRule>> {
  const out: Partial<Record<K, WindowRule>> = {};
  for (const [name, rule] of Object.entries(input) as [K, z.output<typeof windowRule> | undefined][]) {
    if (rule) out[name] = { max: rule.max, windowSeconds: rule.window_seconds };
  }
  return out;
}

function format(minor: number | undefined, currency: string): string | undefined {
  return minor === undefined ? undefined : formatAmount(minor, currency);
}

function invalid(message: string): ValidationError {
  return new ValidationError('VALIDATION_FAILED', message);
}
