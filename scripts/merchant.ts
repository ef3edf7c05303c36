import { createContainer } from '#adapters/container.ts';
import {
  addListingShardStep,
  createMerchant,
  rotateMerchantSecret,
  setMerchantRateLimit,
  setMerchantStatus,
} from '#app/merchant-admin.ts';
import {
  DEFAULT_LISTING_SHARDS,
  LISTING_STEP_MIN_LEAD_MS,
  listingShardsAt,
  MERCHANT_LISTING_SHARDS_SINCE,
} from '#domain/listing-shards.ts';
import { MERCHANT_MODES, type Merchant, type MerchantMode } from '#domain/merchant.ts';
import { policyFor, ROUTE_CLASSES, type RouteClass } from '#domain/rate-limit.ts';
import { newId } from '#shared/ids.ts';
import { CliError, type CliSpec, command, connectTarget, runIfMain, UsageError } from './cli.ts';

/** Points the CLI at its target and builds the container (the AWS environment needs no public URL or sandbox). */
function container() {
  if (connectTarget() === 'aws') {
    process.env.PUBLIC_BASE_URL ??= 'https://unused.invalid';
    process.env.SANDBOX_SECRET_ARN ??= 'unused';
  }
  return createContainer();
}

/** A merchant as printed: never its secret (not even the ciphertext). */
function visible(merchant: Merchant) {
  const { secretCiphertext: _s, previousSecretCiphertext: _p, id, ...rest } = merchant;
  return { merchantId: id, ...rest, mode: merchant.mode ?? 'live' };
}

const id = { id: { type: 'string' } } as const;

function requireId(values: { id?: string }): string {
  if (!values.id) throw new UsageError('--id is required');
  return values.id;
}

/** `npm run merchant`: create, rotate, disable, enable and show merchants, and set their rate limits. */
export const merchantCli: CliSpec = {
  name: 'merchant',
  summary: 'Create and manage merchants (their secret is printed once, at creation or rotation, never again).',
  footer: `Targets the running local stack (npm start) unless TABLE_NAME is set, in which case it uses the AWS environment
(TABLE_NAME, MERCHANT_KEY_ID for KMS, AWS credentials/region as usual). Every change is recorded in the audit trail.`,
  commands: {
    create: command({
      summary: 'create a merchant; prints its secret ONCE',
      usage: '--name NAME [--id ID] [--notify-url URL] [--mode live|test]',
      details: `  --name NAME        shown to payers on the cashier page (required)
  --id ID            1–64 of [A-Za-z0-9_-] (default: a new mch_… id)
  --notify-url URL   default webhook URL of its payments (https; http only to loopback locally)
  --mode live|test   test: its payments that name no channel may use the sandbox (free test money). Default live.
Example: npm run merchant -- create --name "Shop" --notify-url https://shop.example/webhooks/pay`,
      options: { name: { type: 'string' }, ...id, 'notify-url': { type: 'string' }, mode: { type: 'string' } },
      async run(values, { stderr }) {
        if (!values.name) throw new UsageError('--name is required');
        const mode = values.mode ?? 'live';
        if (!isMerchantMode(mode)) throw new UsageError(`--mode must be one of ${MERCHANT_MODES.join(', ')}`);
        const { merchant, secret } = await createMerchant(container(), {
          id: values.id ?? newId('mch'),
          name: values.name,
          notifyUrl: values['notify-url'],
          mode,
        });
        stderr('Store this secret now: it is kept only encrypted and cannot be shown again.\n');
        return { ...visible(merchant), merchantSecret: secret };
      },
    }),
    rotate: command({
      summary: 'issue a new secret; the old one keeps working for a grace period',
      usage: '--id ID [--grace-seconds N]',
      details: '  --grace-seconds N  how long the previous secret stays valid (default 86400; 0 = revoke it now)',
      options: { ...id, 'grace-seconds': { type: 'string' } },
      async run(values) {
        const grace = values['grace-seconds'] === undefined ? 86_400 : Number(values['grace-seconds']);
        if (!Number.isInteger(grace) || grace < 0) {
          throw new UsageError('--grace-seconds must be a non-negative integer');
        }
        const { merchant, secret } = await rotateMerchantSecret(container(), requireId(values), grace);
        return {
          merchantId: merchant.id,
          merchantSecret: secret,
          previousSecretValidUntil: merchant.previousSecretExpiresAt ?? null,
        };
      },
    }),
    disable: command({
      summary: 'block a merchant (its requests get 403 MERCHANT_DISABLED)',
      usage: '--id ID',
      options: id,
      run: async (values) => visible(await setMerchantStatus(container(), requireId(values), 'DISABLED')),
    }),
    enable: command({
      summary: 'unblock a merchant',
      usage: '--id ID',
      options: id,
      run: async (values) => visible(await setMerchantStatus(container(), requireId(values), 'ACTIVE')),
    }),
    show: command({
      summary: 'show a merchant (never its secret)',
      usage: '--id ID',
      options: id,
      async run(values) {
        const merchantId = requireId(values);
        const merchant = await container().merchants.get(merchantId);
        if (!merchant) throw new CliError(`merchant ${merchantId} not found`);
        return visible(merchant);
      },
    }),
    limits: command({
      summary: "show, set or clear a merchant's own rate limits (docs/rate-limits.md)",
      usage: 'show|set|clear --id ID [--class write|read] [--rate N --burst N]',
      details: `  show               the default buckets, the merchant's overrides and what applies to it
  set                its own bucket for --class: --rate tokens per second (0.01–100000), at most --burst tokens
  clear              back to the default bucket for --class
Takes effect on the merchant's next request. Example:
  npm run merchant -- limits set --id mch_1 --class write --rate 200 --burst 400`,
      options: { ...id, class: { type: 'string' }, rate: { type: 'string' }, burst: { type: 'string' } },
      async run(values, { positionals }) {
        const merchantId = requireId(values);
        const action = positionals[0];
        const gateway = container();
        if (action === 'set' || action === 'clear') {
          if (!values.class) throw new UsageError('--class write|read is required');
          if (action === 'set' && (values.rate === undefined || values.burst === undefined)) {
            throw new UsageError('set needs --rate and --burst');
          }
          const policy = action === 'set' ? { rate: Number(values.rate), burst: Number(values.burst) } : null;
          // The use case validates the class and the numbers (zod): a bad one is refused, nothing changes.
          await setMerchantRateLimit(gateway, merchantId, { routeClass: values.class as RouteClass, policy });
        } else if (action !== 'show') {
          throw new UsageError('limits needs show, set or clear');
        }
        const merchant = await gateway.merchants.get(merchantId);
        if (!merchant) throw new CliError(`merchant ${merchantId} not found`);
        const defaults = gateway.config.rateLimits;
        const effective = Object.fromEntries(
          ROUTE_CLASSES.map((cls) => [cls, policyFor(defaults, merchant.rateLimits, cls)]),
        );
        return { merchantId, defaults, overrides: merchant.rateLimits ?? {}, effective };
      },
    }),
    'listing-shards': command({
      summary: "show or raise a merchant's GSI1 listing shard count (docs/scaling.md, merchant listings)",
      usage: 'show|add --id ID [--from ISO-8601 --shards N]',
      details: `  show               its steps and the count an item created now records
  add                from --from on, its new payments, refunds and events use --shards shards (1–512)
Steps are append-only: --from at least ${LISTING_STEP_MIN_LEAD_MS / 60_000} minutes ahead and after the last step, --shards more than
the count in force then (items never move, so counts only grow). Without steps a merchant has ${DEFAULT_LISTING_SHARDS} (items created
from ${MERCHANT_LISTING_SHARDS_SINCE} on; older ones keep the global plan). Example:
  npm run merchant -- listing-shards add --id mch_1 --from 2026-12-20T00:00:00Z --shards 64`,
      options: { ...id, from: { type: 'string' }, shards: { type: 'string' } },
      async run(values, { positionals }) {
        const merchantId = requireId(values);
        const action = positionals[0];
        const gateway = container();
        if (action === 'add') {
          if (values.from === undefined || values.shards === undefined) {
            throw new UsageError('add needs --from and --shards');
          }
          // The use case validates both (zod, then the append-only rules): a bad step is refused, nothing changes.
          await addListingShardStep(gateway, merchantId, { from: values.from, shards: Number(values.shards) });
        } else if (action !== 'show') {
          throw new UsageError('listing-shards needs show or add');
        }
        const merchant = await gateway.merchants.get(merchantId);
        if (!merchant) throw new CliError(`merchant ${merchantId} not found`);
        const steps = merchant.listingShardSteps ?? [];
        // The count an item created now records (before the cutover: the one at the cutover; its key is the global plan's).
        const countNow = listingShardsAt(steps, gateway.clock().toISOString());
        return { merchantId, steps, countNow, perMerchantSince: MERCHANT_LISTING_SHARDS_SINCE };
      },
    }),
  },
};

function isMerchantMode(value: string): value is MerchantMode {
  return (MERCHANT_MODES as readonly string[]).includes(value);
}

runIfMain(import.meta.filename, merchantCli);
