import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseSecret } from '#adapters/channel-secrets.ts';
import { assertProfile, type DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import { type AuditDeps, auditRecord } from '#app/audit.ts';
import type { ChannelHealth, ChannelSecrets } from '#app/ports.ts';
import { auditView } from '#domain/audit.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import {
  type ChannelSecret,
  CONFIGURABLE_CHANNELS,
  type ConfigurableChannel,
  missingFields,
} from '#domain/channel-fields.ts';
import { DEFAULT_KEY_GRACE_SECONDS, retiredKeysOf, rotateChannelSecret } from '#domain/channel-key-rotation.ts';
import { admission, successRate, windowTotals } from '#domain/circuit-breaker.ts';
import { formatAmount, isSupportedCurrency, parseAmount } from '#domain/money.ts';
import { PAY_METHODS, type PayMethod } from '#domain/payment.ts';

/** What the channel commands work on (the CLI wires the real adapters; tests can wire others). */
export interface ChannelCommandDeps extends AuditDeps {
  profiles: Pick<DynamoChannelProfileRepository, 'get' | 'list' | 'put'>;
  health: ChannelHealth;
  secrets: ChannelSecrets;
  /** Whether this deployment runs the built-in sandbox channel (`SANDBOX_ENABLED`, `-c sandbox=true`). */
  sandboxEnabled: boolean;
}

const BUILT_IN = ['SANDBOX', 'BALANCE'] as const;
type BuiltIn = (typeof BUILT_IN)[number];

/** How a built-in channel takes part in routing: it has no profile, no secret and no breaker (it runs in process). */
function builtIn(channel: BuiltIn, deps: ChannelCommandDeps) {
  return channel === 'SANDBOX'
    ? {
        channel,
        built_in: true,
        enabled: deps.sandboxEnabled,
        routing: deps.sandboxEnabled
          ? 'free test money: takes unnamed payments of test-mode merchants only; any merchant may name it'
          : 'off in this deployment (deploy with -c sandbox=true)',
        breaker: 'none (in process)',
      }
    : {
        channel,
        built_in: true,
        enabled: true,
        routing: 'the payer wallet: only for method BALANCE; settles in the creating transaction',
        breaker: 'none (in process)',
      };
}

const isBuiltIn = (channel: string): channel is BuiltIn => (BUILT_IN as readonly string[]).includes(channel);

export const CHANNEL_USAGE = `Usage: npm run channel -- <command> [options]
  set --channel ALIPAY|WECHAT_PAY [--weight 5] [--methods QR,PAGE] [--currencies CNY]
      [--single-limit 50000.00|none] [--daily-limit 1000000.00|none] [--enabled true|false]
      [--setting name=value ...] [--secret-file path.json] [--secret-name NAME] [--key-grace-seconds 86400]
                     create or change a profile; the secret file (private keys, API v3 key…) goes to the secret
                     store only, never to the table or the output. A channel public key the new file replaces
                     (Alipay public key, WeChat Pay platform keys) still verifies for --key-grace-seconds
  show --channel C   the profile (never secrets); SANDBOX and BALANCE: how the built-in channel routes
  enable --channel C | disable --channel C
  list               the built-in channels, then every profile
  health --channel C the shared circuit breaker's state (a channel without a profile has none)
Targets the running local stack (npm start; secrets under .local/channels/) unless TABLE_NAME is set, in which case it
uses the AWS environment (TABLE_NAME, CHANNEL_SECRETS_KEY_ID for the KMS key of new secrets, AWS credentials/region).`;

const OPTIONS = {
  channel: { type: 'string' },
  weight: { type: 'string' },
  methods: { type: 'string' },
  currencies: { type: 'string' },
  'single-limit': { type: 'string' },
  'daily-limit': { type: 'string' },
  enabled: { type: 'string' },
  setting: { type: 'string', multiple: true },
  'secret-file': { type: 'string' },
  'secret-name': { type: 'string' },
  'key-grace-seconds': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Runs one command and returns what to print (never secret material). */
export async function runChannelCommand(argv: string[], deps: ChannelCommandDeps): Promise<unknown> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  const command = positionals[0];
  if (command === 'list') {
    return [...BUILT_IN.map((code) => builtIn(code, deps)), ...(await deps.profiles.list()).map(visible)];
  }
  if (!['set', 'show', 'enable', 'disable', 'health'].includes(command ?? '')) throw new UsageError(CHANNEL_USAGE);
  const requested = values.channel?.toUpperCase() ?? '';
  if (isBuiltIn(requested)) {
    if (command === 'show') return builtIn(requested, deps);
    if (command === 'health') return { ...builtIn(requested, deps), status: 'NOT_APPLICABLE' };
    throw new Error(`${requested} is built in: the deployment turns it on or off, not the channel CLI`);
  }
  const channel = requested as ConfigurableChannel;
  if (!CONFIGURABLE_CHANNELS.includes(channel)) {
    throw new Error(`--channel must be one of ${[...CONFIGURABLE_CHANNELS, ...BUILT_IN]}`);
  }
  const existing = await deps.profiles.get(channel);
  if (command === 'set') return set(deps, channel, existing, values);
  if (!existing) throw new Error(`channel ${channel} has no profile (it takes no payments): create it with \`set\``);
  if (command === 'health') return health(deps, channel);
  if (command === 'show') return visible(existing);
  const updated = { ...existing, enabled: command === 'enable', updatedAt: deps.clock().toISOString() };
  if (updated.enabled) await assertComplete(deps, updated, undefined);
  await deps.profiles.put(updated, existing.updatedAt, configured(deps, existing, updated, false));
  return visible(updated);
}

/** A usage error: print the usage and exit 2. */
export class UsageError extends Error {}

async function set(
  deps: ChannelCommandDeps,
  channel: ConfigurableChannel,
  existing: ChannelProfile | undefined,
  values: Values,
): Promise<unknown> {
  const currencies = values.currencies ? list(values.currencies) : (existing?.currencies ?? []);
  const methods = values.methods ? (list(values.methods) as PayMethod[]) : (existing?.methods ?? []);
  const unknown = methods.filter((method) => !PAY_METHODS.includes(method) || method === 'BALANCE');
  if (methods.length === 0 || unknown.length > 0) throw new Error(`--methods: a list of ${PAY_METHODS.slice(0, -1)}`);
  if (currencies.length === 0 || !currencies.every(isSupportedCurrency)) throw new Error('--currencies: e.g. CNY');
  const secret = values['secret-file']
    ? await rotated(deps, channel, existing, parseSecret(readFileSync(values['secret-file'], 'utf8'), 'file'), values)
    : undefined;
  const profile: ChannelProfile = {
    channel,
    enabled: values.enabled === undefined ? (existing?.enabled ?? false) : bool(values.enabled),
    methods,
    currencies,
    singleLimitMinor: limit(values['single-limit'], existing?.singleLimitMinor, currencies),
    dailyLimitMinor: limit(values['daily-limit'], existing?.dailyLimitMinor, currencies),
    weight: values.weight === undefined ? (existing?.weight ?? 1) : Number(values.weight),
    secretRef: existing?.secretRef ?? '',
    settings: settings(existing?.settings ?? {}, values.setting ?? []),
    updatedAt: deps.clock().toISOString(),
  };
  assertProfile(profile);
  if (profile.enabled) await assertComplete(deps, profile, secret);
  if (secret) profile.secretRef = await deps.secrets.put(values['secret-name'] ?? channel.toLowerCase(), secret);
  if (!profile.secretRef) throw new Error('a new channel needs --secret-file');
  const retiredUntil = retiredKeysOf(secret)?.validUntil;
  await deps.profiles.put(
    profile,
    existing?.updatedAt ?? null,
    configured(deps, existing, profile, !!secret, retiredUntil),
  );
  return {
    ...visible(profile),
    secret: secret ? 'stored' : 'unchanged',
    ...(retiredUntil ? { retired_keys_valid_until: retiredUntil } : {}),
  };
}

/**
 * The secret to store: the file's, plus the channel public keys it replaces (read from the stored secret) kept as
 * `retiredKeys` for the grace period, so notifications the channel still signs with its old key keep verifying.
 */
async function rotated(
  deps: ChannelCommandDeps,
  channel: ConfigurableChannel,
  existing: ChannelProfile | undefined,
  next: ChannelSecret,
  values: Values,
): Promise<ChannelSecret> {
  const grace = values['key-grace-seconds'] ?? String(DEFAULT_KEY_GRACE_SECONDS);
  if (!/^\d{1,9}$/.test(grace)) throw new Error('--key-grace-seconds must be a whole number of seconds');
  const previous = existing?.secretRef ? await deps.secrets.get(existing.secretRef).catch(() => undefined) : undefined;
  return rotateChannelSecret(channel, previous, next, deps.clock(), Number(grace));
}

/** The audit entry of a configuration change: routing and settings before/after; of the secret, only that it changed. */
function configured(
  deps: ChannelCommandDeps,
  before: ChannelProfile | undefined,
  after: ChannelProfile,
  secretReplaced: boolean,
  retiredKeysValidUntil?: string,
) {
  const view = (profile: ChannelProfile) =>
    auditView(profile, [
      'enabled',
      'methods',
      'currencies',
      'singleLimitMinor',
      'dailyLimitMinor',
      'weight',
      'settings',
    ]);
  return auditRecord(deps, {
    action: 'channel.configured',
    resource: { type: 'channel', id: after.channel },
    ...(before ? { before: view(before) } : {}),
    after: {
      ...view(after),
      secret: secretReplaced ? 'replaced' : 'unchanged',
      ...(retiredKeysValidUntil ? { retiredKeysValidUntil } : {}),
    },
  });
}

async function health(deps: ChannelCommandDeps, channel: ConfigurableChannel): Promise<unknown> {
  const state = (await deps.health.read([channel])).get(channel);
  if (!state) throw new Error(`no health for ${channel}`);
  const now = deps.clock().getTime();
  const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    channel,
    status: state.status,
    admission: admission(state, now, deps.health.breaker),
    consecutive_failures: state.consecutiveFailures,
    opened_at: iso(state.openedAt),
    probe_claimed_at: iso(state.probeClaimedAt),
    window: windowTotals(state, now, deps.health.breaker),
    success_rate: Number(successRate(state, now, deps.health.breaker).toFixed(4)),
    latency_ms: state.latencyMs === undefined ? null : Math.round(state.latencyMs),
  };
}

/** Enabling needs every setting and secret field of the channel; the secret is read to check it, never shown. */
async function assertComplete(deps: ChannelCommandDeps, profile: ChannelProfile, secret: object | undefined) {
  const stored =
    secret ??
    (profile.secretRef
      ? await deps.secrets.get(profile.secretRef).catch((error: unknown) => {
          throw new Error(`cannot enable ${profile.channel}: ${error instanceof Error ? error.message : 'no secret'}`);
        })
      : {});
  const missing = missingFields(profile.channel, profile.settings, stored as Record<string, unknown>);
  if (missing.length > 0) throw new Error(`cannot enable ${profile.channel}: missing ${missing.join(', ')}`);
}

/** The profile as printed, limits also in major units. */
function visible(profile: ChannelProfile) {
  const currency = profile.currencies[0] ?? 'CNY';
  const major = (minor?: number) => (minor === undefined ? null : formatAmount(minor, currency));
  return { ...profile, single_limit: major(profile.singleLimitMinor), daily_limit: major(profile.dailyLimitMinor) };
}

function limit(value: string | undefined, current: number | undefined, currencies: string[]): number | undefined {
  if (value === undefined) return current;
  if (value === 'none') return undefined;
  const minors = new Set(currencies.map((currency) => parseAmount(value, currency).minor));
  if (minors.size !== 1) throw new Error('limits need currencies with the same minor unit; configure them apart');
  return [...minors][0];
}

function settings(current: Record<string, string>, pairs: string[]): Record<string, string> {
  const out = { ...current };
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--setting expects name=value, got ${pair.slice(0, 40)}`);
    const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
    if (value === '') delete out[name];
    else out[name] = value;
  }
  return out;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim().toUpperCase())
    .filter(Boolean);
}

function bool(value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new Error('--enabled must be true or false');
  return value === 'true';
}
