import { readFileSync } from 'node:fs';
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
import { CliError, type CliSpec, command, UsageError, type Values } from './cli.ts';

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
        builtIn: true,
        configured: true,
        enabled: deps.sandboxEnabled,
        routing: deps.sandboxEnabled
          ? 'free test money: takes unnamed payments of test-mode merchants only; any merchant may name it'
          : 'off in this deployment (deploy with -c sandbox=true)',
        breaker: 'none (in process)',
      }
    : {
        channel,
        builtIn: true,
        configured: true,
        enabled: true,
        routing: 'the payer wallet: only for method BALANCE; settles in the creating transaction',
        breaker: 'none (in process)',
      };
}

const isBuiltIn = (channel: string): channel is BuiltIn => (BUILT_IN as readonly string[]).includes(channel);

/** What `set --help` and docs/channels.md document: every setting and secret field, a complete example per channel. */
export const CHANNEL_SETUP_HELP = `Options:
  --channel ALIPAY|WECHAT_PAY   the channel account to configure (required)
  --methods QR,PAGE,…           the pay methods it takes: QR, PAGE, WAP, H5, JSAPI, APP
                                (required for a new profile)
  --currencies CNY              the currencies it takes (required for a new profile)
  --weight N                    relative share of routed traffic among healthy channels (default 1)
  --single-limit AMOUNT|none    largest single payment, major units (e.g. 50000.00); none = no channel limit
  --daily-limit AMOUNT|none     most successful volume per UTC day, major units; none = no cap
  --enabled true|false          routes payments only when true (default false); enabling checks every field below
  --setting name=value          a non-secret setting (repeat it; name= removes one); stored on the profile
  --secret-file path.json       the secret fields as one JSON object; stored only in the secret store
                                (Secrets Manager on AWS, .local/channels/<name>.json mode 0600 locally), never printed
  --secret-name NAME            the secret's name in the store (default the channel, e.g. alipay)
  --key-grace-seconds N         a channel public key the new secret file replaces (Alipay public key, WeChat Pay
                                platform keys) still verifies for N seconds (default 86400)
  --callback-allowlist CIDRS|none  the address ranges the channel's callbacks come from, comma-separated
                                (110.75.0.0/16,2400:1234::/32); a callback from elsewhere gets 403 before it is read;
                                none = any source (the default)

ALIPAY settings: appId (the open-platform app id), gatewayUrl (https://openapi.alipay.com/gateway.do; the sandbox is
  https://openapi-sandbox.dl.alipaydev.com/gateway.do), notifyUrl (https://<api>/v1/callbacks/alipay)
ALIPAY secret file (alipay-keys.json):
  {
    "appPrivateKeyPem": "-----BEGIN PRIVATE KEY-----\\n…\\n-----END PRIVATE KEY-----\\n",
    "alipayPublicKeyPem": "-----BEGIN PUBLIC KEY-----\\n…\\n-----END PUBLIC KEY-----\\n"
  }
  appPrivateKeyPem: the app's RSA2 private key (PKCS#8 or PKCS#1 PEM); alipayPublicKeyPem: Alipay's public key (PEM)
Example:
  npm run channel -- set --channel ALIPAY --methods QR,PAGE,WAP --currencies CNY --weight 5 \\
    --single-limit 50000.00 --daily-limit 1000000.00 \\
    --setting appId=2021000000000001 --setting gatewayUrl=https://openapi.alipay.com/gateway.do \\
    --setting notifyUrl=https://pay.example.com/v1/callbacks/alipay \\
    --secret-file alipay-keys.json --enabled true

WECHAT_PAY settings: mchId (merchant number), appId (the app/official account id bound to it), baseUrl
  (https://api.mch.weixin.qq.com), notifyUrl (https://<api>/v1/callbacks/wechat_pay), merchantSerialNo (serial of the
  merchant API certificate)
WECHAT_PAY secret file (wechat-pay-keys.json):
  {
    "merchantPrivateKeyPem": "-----BEGIN PRIVATE KEY-----\\n…\\n-----END PRIVATE KEY-----\\n",
    "apiV3Key": "0123456789abcdef0123456789abcdef",
    "platformKeys": {
      "PUB_KEY_ID_0114232134912410000000000000": "-----BEGIN PUBLIC KEY-----\\n…\\n-----END PUBLIC KEY-----\\n",
      "5157F09EFDC096DE15EBE81A47057A7232F1B8E1": "-----BEGIN CERTIFICATE-----\\n…\\n-----END CERTIFICATE-----\\n"
    }
  }
  merchantPrivateKeyPem: the merchant API private key (apiclient_key.pem); apiV3Key: the 32-character API v3 key;
  platformKeys: Wechatpay-Serial → PEM, the WeChat Pay public key (PUB_KEY_ID_…) and/or platform certificates
Example:
  npm run channel -- set --channel WECHAT_PAY --methods QR,JSAPI --currencies CNY --weight 3 \\
    --setting mchId=1900000109 --setting appId=wxd678efh567hg6787 \\
    --setting baseUrl=https://api.mch.weixin.qq.com \\
    --setting notifyUrl=https://pay.example.com/v1/callbacks/wechat_pay \\
    --setting merchantSerialNo=5157F09EFDC096DE15EBE81A47057A7232F1B8E1 \\
    --secret-file wechat-pay-keys.json --enabled true

Details: docs/channels.md.`;

const CHANNEL = { channel: { type: 'string' } } as const;

const SET_OPTIONS = {
  ...CHANNEL,
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
  'callback-allowlist': { type: 'string' },
} as const;

type SetValues = Values<typeof SET_OPTIONS>;

type Deps = () => ChannelCommandDeps | Promise<ChannelCommandDeps>;

/** What a channel without a profile reports: it takes no payments and has no breaker. */
function notConfigured(channel: ConfigurableChannel) {
  return {
    channel,
    builtIn: false,
    configured: false,
    enabled: false,
    status: 'NOT_CONFIGURED',
    message: `${channel} is not configured: it has no profile and takes no payments (create it with \`set\`)`,
  };
}

/** Resolves `--channel`: a built-in channel or a configurable one; anything else is a usage error. */
function channelOf(value: string | undefined): BuiltIn | ConfigurableChannel {
  if (!value) throw new UsageError('--channel is required');
  const requested = value.toUpperCase();
  if (isBuiltIn(requested) || CONFIGURABLE_CHANNELS.includes(requested as ConfigurableChannel)) {
    return requested as BuiltIn | ConfigurableChannel;
  }
  throw new UsageError(`--channel must be one of ${[...CONFIGURABLE_CHANNELS, ...BUILT_IN].join(', ')}`);
}

function configurable(channel: BuiltIn | ConfigurableChannel): ConfigurableChannel {
  if (isBuiltIn(channel)) {
    throw new CliError(`${channel} is built in: the deployment turns it on or off, not the channel CLI`);
  }
  return channel;
}

/** Enables or disables a configured channel (refused for a built-in or an unconfigured one). */
async function toggle(deps: ChannelCommandDeps, value: string | undefined, enabled: boolean) {
  const channel = configurable(channelOf(value));
  const existing = await deps.profiles.get(channel);
  if (!existing) throw new CliError(notConfigured(channel).message);
  const updated = { ...existing, enabled, updatedAt: deps.clock().toISOString() };
  if (updated.enabled) await assertComplete(deps, updated, undefined);
  await deps.profiles.put(updated, existing.updatedAt, configured(deps, existing, updated, false));
  return visible(updated);
}

/** `npm run channel`: the channel CLI; `deps` is called once a command runs (so `--help` needs no stack). */
export function channelCli(deps: Deps): CliSpec {
  return {
    name: 'channel',
    summary: `Configure the payment channel accounts (ALIPAY, WECHAT_PAY) and read their health. The built-in channels
(SANDBOX, BALANCE) are listed and explained, but the deployment, not this tool, turns them on or off.`,
    footer: `Targets the running local stack (npm start; secrets under .local/channels/) unless TABLE_NAME is set, in which
case it uses the AWS environment (TABLE_NAME, CHANNEL_SECRETS_KEY_ID for the KMS key of new secrets, AWS
credentials/region). Secrets are never printed; every change is recorded in the audit trail.`,
    verbatimKeys: ['settings'],
    commands: {
      list: command({
        summary: 'every channel: the built-in ones, then ALIPAY and WECHAT_PAY (profile, or "not configured")',
        usage: '',
        options: {},
        async run() {
          const d = await deps();
          const profiles = new Map((await d.profiles.list()).map((profile) => [profile.channel, profile]));
          return [
            ...BUILT_IN.map((code) => builtIn(code, d)),
            ...CONFIGURABLE_CHANNELS.map((code) => {
              const profile = profiles.get(code);
              return profile ? visible(profile) : notConfigured(code);
            }),
          ];
        },
      }),
      show: command({
        summary: 'one channel: its profile and settings (never secrets), or how a built-in channel routes',
        usage: '--channel ALIPAY|WECHAT_PAY|SANDBOX|BALANCE',
        options: CHANNEL,
        async run(values) {
          const d = await deps();
          const channel = channelOf(values.channel);
          if (isBuiltIn(channel)) return builtIn(channel, d);
          const profile = await d.profiles.get(channel);
          return profile ? visible(profile) : notConfigured(channel);
        },
      }),
      set: command({
        summary: 'create or change a channel profile; the secret file goes to the secret store only',
        usage: '--channel ALIPAY|WECHAT_PAY [options]',
        details: CHANNEL_SETUP_HELP,
        options: SET_OPTIONS,
        async run(values) {
          const d = await deps();
          const channel = configurable(channelOf(values.channel));
          return set(d, channel, await d.profiles.get(channel), values);
        },
      }),
      enable: command({
        summary: 'let a configured channel take payments (checks every setting and secret field first)',
        usage: '--channel ALIPAY|WECHAT_PAY',
        options: CHANNEL,
        run: async (values) => toggle(await deps(), values.channel, true),
      }),
      disable: command({
        summary: 'stop routing payments to a channel (payments in flight still complete)',
        usage: '--channel ALIPAY|WECHAT_PAY',
        options: CHANNEL,
        run: async (values) => toggle(await deps(), values.channel, false),
      }),
      health: command({
        summary: "a channel's shared circuit breaker (NOT_APPLICABLE for built-ins, NOT_CONFIGURED without a profile)",
        usage: '--channel ALIPAY|WECHAT_PAY|SANDBOX|BALANCE',
        details: `Prints status (CLOSED, OPEN, HALF_OPEN), admission (ALLOW, PROBE when the one probe call is due, DENY),
consecutive_failures, opened_at, probe_claimed_at, window (calls and failures in the last 60 s), success_rate
(smoothed) and latency_ms (EWMA).`,
        options: CHANNEL,
        async run(values) {
          const d = await deps();
          const channel = channelOf(values.channel);
          if (isBuiltIn(channel)) return { ...builtIn(channel, d), status: 'NOT_APPLICABLE' };
          if (!(await d.profiles.get(channel))) return notConfigured(channel);
          return health(d, channel);
        },
      }),
    },
  };
}

async function set(
  deps: ChannelCommandDeps,
  channel: ConfigurableChannel,
  existing: ChannelProfile | undefined,
  values: SetValues,
): Promise<unknown> {
  const currencies = values.currencies ? list(values.currencies) : (existing?.currencies ?? []);
  const methods = values.methods ? (list(values.methods) as PayMethod[]) : (existing?.methods ?? []);
  const unknown = methods.filter((method) => !PAY_METHODS.includes(method) || method === 'BALANCE');
  if (methods.length === 0 || unknown.length > 0)
    throw new UsageError(`--methods: a list of ${PAY_METHODS.slice(0, -1)}`);
  if (currencies.length === 0 || !currencies.every(isSupportedCurrency)) throw new UsageError('--currencies: e.g. CNY');
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
    ...allowlist(values['callback-allowlist'], existing?.callbackAllowlist),
    updatedAt: deps.clock().toISOString(),
  };
  assertProfile(profile);
  if (profile.enabled) await assertComplete(deps, profile, secret);
  if (secret) profile.secretRef = await deps.secrets.put(values['secret-name'] ?? channel.toLowerCase(), secret);
  if (!profile.secretRef) throw new UsageError('a new channel needs --secret-file');
  const retiredUntil = retiredKeysOf(secret)?.validUntil;
  await deps.profiles.put(
    profile,
    existing?.updatedAt ?? null,
    configured(deps, existing, profile, !!secret, retiredUntil),
  );
  return {
    ...visible(profile),
    secret: secret ? 'stored' : 'unchanged',
    ...(retiredUntil ? { retiredKeysValidUntil: retiredUntil } : {}),
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
  values: SetValues,
): Promise<ChannelSecret> {
  const grace = values['key-grace-seconds'] ?? String(DEFAULT_KEY_GRACE_SECONDS);
  if (!/^\d{1,9}$/.test(grace)) throw new UsageError('--key-grace-seconds must be a whole number of seconds');
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
      'callbackAllowlist',
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
  return {
    ...profile,
    builtIn: false,
    configured: true,
    singleLimit: major(profile.singleLimitMinor),
    dailyLimit: major(profile.dailyLimitMinor),
  };
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
    if (at <= 0) throw new UsageError(`--setting expects name=value, got ${pair.slice(0, 40)}`);
    const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
    if (value === '') delete out[name];
    else out[name] = value;
  }
  return out;
}

/** `--callback-allowlist`: comma-separated ranges; `none` (or empty) removes the list; absent keeps the current one. */
function allowlist(value: string | undefined, current: string[] | undefined): { callbackAllowlist?: string[] } {
  if (value === undefined) return current?.length ? { callbackAllowlist: current } : {};
  const ranges = value
    .split(',')
    .map((range) => range.trim())
    .filter(Boolean);
  return value.trim() === 'none' || ranges.length === 0 ? {} : { callbackAllowlist: ranges };
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim().toUpperCase())
    .filter(Boolean);
}

function bool(value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new UsageError('--enabled must be true or false');
  return value === 'true';
}
