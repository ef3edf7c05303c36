import {
  DEFAULT_FEE_SCOPE,
  FEE_BEARERS,
  type FeeCharge,
  type FeeSchedule,
  type FeeScheduleVersion,
  feeRuleFor,
  nextFeeVersion,
  paymentFee,
  refundFeeReturn,
} from '#domain/fees.ts';
import { CHANNELS, PAY_METHODS, type Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { NotFoundError, ValidationError } from '#shared/errors.ts';
import * as z from '#shared/zod.ts';
import { type AuditDeps, auditRecord } from './audit.ts';
import type { FeeSchedules, MerchantRepository } from './ports.ts';
import { parseInput } from './validation.ts';

export interface FeeAdminDeps extends AuditDeps {
  feeSchedules: FeeSchedules;
  merchants: Pick<MerchantRepository, 'get'>;
}

const scopeSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'scope: DEFAULT or a merchant id'));
const ruleKeySchema = { channel: z.enum(CHANNELS), method: z.enum([...PAY_METHODS, '*']) };

/** `fees set`: one rule of a scope's schedule (strings as typed by the operator; the domain checks the decimals). */
export const feeRuleChangeSchema = z.strictObject({
  scope: scopeSchema,
  ...ruleKeySchema,
  percent: z.string(),
  fixed: z._default(z.string(), '0'),
  bearer: z.enum(FEE_BEARERS),
  effectiveFrom: z.optional(z.iso.datetime({ offset: true })),
});

/** `fees remove`: drop a scope's rule of a channel and method from a new version on. */
export const feeRuleRemovalSchema = z.strictObject({
  scope: scopeSchema,
  ...ruleKeySchema,
  effectiveFrom: z.optional(z.iso.datetime({ offset: true })),
});

/** A change as an operator typed it (every value is validated): set a rule, or `remove` one. */
export interface FeeScheduleChange {
  scope: string;
  channel: string;
  method: string;
  percent?: string;
  fixed?: string;
  bearer?: string;
  effectiveFrom?: string;
  remove?: boolean;
}

/**
 * Sets (`rule`) or removes a rule of a scope's fee schedule as a new version (effective now or at `effectiveFrom`,
 * never in the past), conditional on the version read, audited (`fees.schedule_changed`, before and after).
 * `404` for a merchant scope that is not a merchant; `VALIDATION_FAILED` for a bad rule or time.
 */
export async function changeFeeSchedule(deps: FeeAdminDeps, input: FeeScheduleChange): Promise<FeeSchedule> {
  const { remove, ...fields } = { remove: false, ...input };
  const change = remove
    ? { ...parseInput(feeRuleRemovalSchema, fields), remove: true as const }
    : { ...parseInput(feeRuleChangeSchema, fields), remove: false as const };
  const { scope, effectiveFrom } = change;
  if (scope !== DEFAULT_FEE_SCOPE && !(await deps.merchants.get(scope))) {
    throw new NotFoundError(`merchant ${scope} not found`);
  }
  const current = await deps.feeSchedules.get(scope);
  const now = deps.clock();
  let version: FeeScheduleVersion;
  try {
    const { channel, method } = change;
    version = change.remove
      ? nextFeeVersion(current, { rule: { channel, method }, remove: true }, now, effectiveFrom)
      : nextFeeVersion(current, { rule: { channel, method, ...pick(change) } }, now, effectiveFrom);
  } catch (error) {
    throw new ValidationError('VALIDATION_FAILED', error instanceof Error ? error.message : String(error));
  }
  const schedule: FeeSchedule = { scope, versions: [...(current?.versions ?? []), version] };
  const latest = current?.versions.at(-1);
  await deps.feeSchedules.put(
    schedule,
    latest?.version ?? 0,
    auditRecord(deps, {
      action: 'fees.schedule_changed',
      ...(scope === DEFAULT_FEE_SCOPE ? {} : { merchantId: scope }),
      resource: { type: 'fee_schedule', id: scope },
      ...(latest ? { before: { ...latest } } : {}),
      after: { ...version },
    }),
  );
  return schedule;
}

function pick(rule: { percent: string; fixed: string; bearer: (typeof FEE_BEARERS)[number] }) {
  return { percent: rule.percent, fixed: rule.fixed, bearer: rule.bearer };
}

/** `fees show`: a scope's schedule with every version, or `404`. */
export async function getFeeSchedule(deps: Pick<FeeAdminDeps, 'feeSchedules'>, scope: string): Promise<FeeSchedule> {
  const schedule = await deps.feeSchedules.get(parseInput(scopeSchema, scope));
  if (!schedule) throw new NotFoundError(`no fee schedule for ${scope}`);
  return schedule;
}

/**
 * Prices payments and refunds for one reconciliation run: each merchant's schedule and the default one are read once
 * per run. A payment is priced by the schedule version in force at its `paidAt`, so every re-run prices it the same.
 */
export class FeeBook {
  private readonly schedules = new Map<string, Promise<FeeSchedule | undefined>>();

  constructor(private readonly feeSchedules: Pick<FeeSchedules, 'get'>) {}

  /** A settled payment's merchant fee. */
  async chargeFor(payment: Payment): Promise<FeeCharge> {
    const [merchant, fallback] = await Promise.all([
      this.schedule(payment.merchantId),
      this.schedule(DEFAULT_FEE_SCOPE),
    ]);
    const at = payment.paidAt ?? payment.createdAt;
    const priced = feeRuleFor({ merchant, default: fallback }, payment, at);
    return paymentFee(priced, payment.amountMinor, payment.currency);
  }

  /** What a settled refund returns of its payment's merchant fee. */
  async returnFor(refund: Refund, payment: Payment): Promise<FeeCharge> {
    return refundFeeReturn(await this.chargeFor(payment), payment.amountMinor, refund.amountMinor);
  }

  private schedule(scope: string): Promise<FeeSchedule | undefined> {
    let found = this.schedules.get(scope);
    if (!found) {
      found = this.feeSchedules.get(scope);
      this.schedules.set(scope, found);
    }
    return found;
  }
}
