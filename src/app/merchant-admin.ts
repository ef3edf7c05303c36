import { randomBytes } from 'node:crypto';
import type { MerchantRepository, NotifyUrlGuard, SecretCipher } from '#app/ports.ts';
import { type AuditAction, auditView } from '#domain/audit.ts';
import { appendListingShardStep, LISTING_STEP_MIN_LEAD_MS, MAX_LISTING_SHARDS } from '#domain/listing-shards.ts';
import { MERCHANT_ID_PATTERN, type Merchant, type MerchantMode } from '#domain/merchant.ts';
import {
  RATE_BOUNDS,
  type RateLimitOverrides,
  type RatePolicy,
  ROUTE_CLASSES,
  type RouteClass,
} from '#domain/rate-limit.ts';
import { ConflictError, NotFoundError, ValidationError } from '#shared/errors.ts';
import * as z from '#shared/zod.ts';
import { type AuditDeps, auditRecord } from './audit.ts';
import { assertNotifyUrl } from './notify-url.ts';
import { parseInput } from './validation.ts';

export interface MerchantAdminDeps extends AuditDeps {
  merchants: MerchantRepository;
  cipher: SecretCipher;
  /** A merchant's default notify URL passes the same egress policy as a payment's. */
  notifyUrls: NotifyUrlGuard;
  clock: () => Date;
}

/** A new merchant secret: 256 random bits. */
export function generateMerchantSecret(): string {
  return `sk_${randomBytes(32).toString('hex')}`;
}

/**
 * Creates a merchant. The plaintext secret is returned once, to hand to the merchant; only its ciphertext is stored.
 */
export async function createMerchant(
  deps: MerchantAdminDeps,
  input: { id: string; name: string; notifyUrl?: string; secret?: string; mode?: MerchantMode },
): Promise<{ merchant: Merchant; secret: string }> {
  if (!MERCHANT_ID_PATTERN.test(input.id)) {
    throw new ValidationError('VALIDATION_FAILED', 'merchant id: 1-64 of [A-Za-z0-9_-]', { id: input.id });
  }
  if (input.notifyUrl) await assertNotifyUrl(deps.notifyUrls, input.notifyUrl);
  const secret = input.secret ?? generateMerchantSecret();
  const at = deps.clock().toISOString();
  const merchant: Merchant = {
    id: input.id,
    name: input.name,
    status: 'ACTIVE',
    secretCiphertext: await deps.cipher.encrypt(secret, { merchant_id: input.id }),
    notifyUrl: input.notifyUrl,
    ...(input.mode ? { mode: input.mode } : {}),
    createdAt: at,
    updatedAt: at,
  };
  const audit = auditRecord(deps, {
    action: 'merchant.created',
    merchantId: merchant.id,
    resource: { type: 'merchant', id: merchant.id },
    after: merchantView(merchant),
  });
  if (!(await deps.merchants.create(merchant, audit))) {
    throw new ConflictError('MERCHANT_EXISTS', `merchant ${input.id} exists`);
  }
  return { merchant, secret };
}

/**
 * Rotates a merchant's secret. The previous secret stays valid for `graceSeconds` (default 24 h) so the merchant can
 * deploy the new one without downtime; a second rotation ends the first one's grace at once.
 */
export async function rotateMerchantSecret(
  deps: MerchantAdminDeps,
  merchantId: string,
  graceSeconds = 86_400,
): Promise<{ merchant: Merchant; secret: string }> {
  const secret = generateMerchantSecret();
  const merchant = await changeMerchant(
    deps,
    merchantId,
    'merchant.secret_rotated',
    async (current, now) => ({
      ...current,
      secretCiphertext: await deps.cipher.encrypt(secret, { merchant_id: merchantId }),
      previousSecretCiphertext: graceSeconds > 0 ? current.secretCiphertext : undefined,
      previousSecretExpiresAt:
        graceSeconds > 0 ? new Date(now.getTime() + graceSeconds * 1000).toISOString() : undefined,
    }),
    (changed) => ({ previous_secret_valid_until: changed.previousSecretExpiresAt ?? null }),
  );
  return { merchant, secret };
}

/** Enables or disables a merchant (a disabled merchant gets `403 MERCHANT_DISABLED`). */
export async function setMerchantStatus(
  deps: MerchantAdminDeps,
  merchantId: string,
  status: Merchant['status'],
): Promise<Merchant> {
  return changeMerchant(deps, merchantId, 'merchant.status_changed', (current) => ({ ...current, status }));
}

const ratePolicySchema = z.strictObject({
  rate: z.number().check(z.gte(RATE_BOUNDS.minRate), z.lte(RATE_BOUNDS.maxRate)),
  burst: z.number().check(z.int(), z.gte(1), z.lte(RATE_BOUNDS.maxBurst)),
});
const rateLimitChangeSchema = z.strictObject({
  routeClass: z.enum(ROUTE_CLASSES),
  /** null: back to the gateway's default. */
  policy: z.nullable(ratePolicySchema),
});

/**
 * Sets (or, with `policy: null`, clears) a merchant's own token bucket for writes or reads. Takes effect on the
 * merchant's next request in every container (the policy is read with the merchant at authentication).
 */
export async function setMerchantRateLimit(
  deps: MerchantAdminDeps,
  merchantId: string,
  change: { routeClass: RouteClass; policy: RatePolicy | null },
): Promise<Merchant> {
  const { routeClass, policy } = parseInput(rateLimitChangeSchema, change);
  return changeMerchant(deps, merchantId, 'merchant.rate_limits_changed', (current) => {
    const { [routeClass]: _replaced, ...others } = current.rateLimits ?? {};
    const rateLimits: RateLimitOverrides = policy ? { ...others, [routeClass]: policy } : others;
    return { ...current, rateLimits: Object.keys(rateLimits).length ? rateLimits : undefined };
  });
}

const listingShardStepSchema = z.strictObject({
  /** Normalised to UTC with milliseconds, the form GSI1 sort keys and `createdAt` have. */
  from: z.pipe(
    z.iso.datetime({ offset: true }),
    z.transform((value) => new Date(value).toISOString()),
  ),
  shards: z.number().check(z.int(), z.gte(1), z.lte(MAX_LISTING_SHARDS)),
});

/**
 * Appends a step to a merchant's GSI1 listing shard counts (docs/scaling.md, "Merchant listings"): from `from` on, its
 * new payments, refunds and events are spread over `shards` partitions. Steps are append-only: `from` at least
 * {@link LISTING_STEP_MIN_LEAD_MS} ahead (every container re-reads the merchant before it applies) and after the last
 * step, `shards` more than the count in force then — an item never moves, so counts only grow. Audited.
 */
export async function addListingShardStep(
  deps: MerchantAdminDeps,
  merchantId: string,
  step: { from: string; shards: number },
): Promise<Merchant> {
  const parsed = parseInput(listingShardStepSchema, step);
  return changeMerchant(deps, merchantId, 'merchant.listing_shards_changed', (current, now) => ({
    ...current,
    listingShardSteps: appendListingShardStep(current.listingShardSteps, parsed, now, LISTING_STEP_MIN_LEAD_MS),
  }));
}

/**
 * Reads a merchant (`404` when unknown), applies `change` and writes the result conditional on the version read,
 * with its audit entry (`afterExtras`: what the audit shows beside the merchant's view).
 */
async function changeMerchant(
  deps: MerchantAdminDeps,
  merchantId: string,
  action: AuditAction,
  change: (current: Merchant, now: Date) => Merchant | Promise<Merchant>,
  afterExtras: (merchant: Merchant) => Record<string, unknown> = () => ({}),
): Promise<Merchant> {
  const current = await deps.merchants.get(merchantId);
  if (!current) throw new NotFoundError(`merchant ${merchantId} not found`);
  const now = deps.clock();
  const merchant: Merchant = { ...(await change(current, now)), updatedAt: now.toISOString() };
  await deps.merchants.update(
    merchant,
    current.updatedAt,
    auditRecord(deps, {
      action,
      merchantId,
      resource: { type: 'merchant', id: merchantId },
      before: merchantView(current),
      after: { ...merchantView(merchant), ...afterExtras(merchant) },
    }),
  );
  return merchant;
}

/** A merchant as the audit log shows it: never a secret, only a fingerprint that changes when one does. */
function merchantView(merchant: Merchant) {
  return auditView(merchant, [
    'name',
    'status',
    'notifyUrl',
    'minAmount',
    'maxAmount',
    'mode',
    'rateLimits',
    'listingShardSteps',
  ]);
}
