import { DEFAULT_RETRY_JITTER, parseRetrySchedule } from './retry-schedule.ts';

/** Runtime configuration, read from the environment the CDK stack or the local stack sets. */
export interface GatewayConfig {
  tableName: string;
  /** Public base URL of the API (pay URLs, the sandbox cashier's callback target). */
  publicBaseUrl: string;
  /**
   * `kms` (AWS) with the merchant key, `local` with a base64 32-byte key, or `none` for functions that are not granted
   * the merchant key (least privilege): using it there is a configuration error, raised at first use.
   */
  secretCipher: { kind: 'kms'; keyId: string } | { kind: 'local'; masterKey: string } | { kind: 'none' };
  /** Secrets Manager ARN of the sandbox channel secret (AWS), the secret itself (local stack, tests), or none. */
  sandboxSecret: { kind: 'secrets-manager'; arn: string } | { kind: 'env'; value: string } | { kind: 'none' };
  /**
   * Whether the sandbox channel (free test money through a public cashier page) is on. Off unless explicitly
   * enabled: a production stack must never let anyone pay with it.
   */
  sandboxEnabled: boolean;
  /** Queue URLs and state machine ARNs; absent where a function is not granted them (fails at first use). */
  notifyQueueUrl?: string;
  notifyDlqUrl?: string;
  /** The outbox relay's failure queue (stream batches it gave up on), which the re-drive consumes. */
  relayFailureQueueUrl?: string;
  /** Where the re-drive parks a batch it gave up on (alarmed). */
  relayUndeliverableQueueUrl?: string;
  notifyRetryStateMachineArn?: string;
  orderExpiryStateMachineArn?: string;
  /** The channel bills bucket (`BILLS_BUCKET`); absent where a function is not granted it (fails at first use). */
  billsBucket?: string;
  /** The reconciliation reports bucket (`REPORTS_BUCKET`); absent where a function is not granted it. */
  reportsBucket?: string;
  /** The notification retry schedule (configuration, not code) and its ± jitter. */
  retrySchedule: { seconds: number[]; jitter: number };
  /**
   * How long a container uses channel profiles (routing, accounts) before reading them again, ms
   * (`CHANNEL_CONFIG_TTL_MS`, default 5000). A changed profile version reloads the channel's secret at once.
   */
  channelConfigTtlMs: number;
  /**
   * How long a container answers merchant profile reads (authentication, notifications) from memory, ms
   * (`MERCHANT_CACHE_TTL_MS`; default 1000 in a deployed function, 0 = off elsewhere). A status change, secret
   * rotation or rate limit reaches warm containers within it; the container's own writes drop its copy at once.
   */
  merchantCacheTtlMs: number;
  /**
   * How long a container uses the risk configuration and its copy of the blacklist before checking them again, ms
   * (`RISK_CACHE_TTL_MS`; default 5000 in a deployed function, 0 = off elsewhere). A configuration change or blacklist
   * entry reaches every warm container within it (docs/risk.md); the container's own writes drop its copy at once.
   */
  riskCacheTtlMs: number;
  /**
   * How long after its creation a `PENDING` payment registered at its channel is first asked about there, ms
   * (`PAYMENT_SYNC_AFTER_SECONDS`, default 300): the status sync settles a payment whose callback was lost before its
   * expiry. Then again on a doubling delay, never later than the expiry (docs/operations.md).
   */
  paymentSyncAfterMs: number;
  /** How long channel message journal entries are kept, days (`JOURNAL_RETENTION_DAYS`, default 180; DynamoDB TTL). */
  journalRetentionDays: number;
  /** Channel secrets from `.local/channels/` (one machine) instead of Secrets Manager (AWS). */
  channelSecretsDir?: string;
  /** Merchants allowed to read the gateway-wide reconciliation reports (`FINANCE_MERCHANT_IDS`, comma-separated). */
  financeMerchantIds: string[];
  /** Whether payment creation runs the risk engine (`RISK_ENGINE=off` turns it off; the bench compares both). */
  riskEnabled: boolean;
  /** Only the local stack may notify loopback URLs (`http://127.0.0.1/...`); never a Lambda function. */
  allowLoopbackHttp: boolean;
  /**
   * Every merchant's default token buckets (tokens per second, capacity) for writes and reads, and the most tokens a
   * container leases from the shared bucket in one update (docs/rate-limits.md). Merchants may have overrides.
   */
  rateLimits: {
    write: { rate: number; burst: number };
    read: { rate: number; burst: number };
    leaseSize: number;
  };
}

/** A setting only some functions are given (least privilege): its absence is a deployment error at first use. */
export function requireSetting(value: string | undefined, name: string): string {
  if (!value) throw new Error(`this function has no ${name}`);
  return value;
}

/**
 * Per merchant and route class: together a merchant's writes and reads reach at most half of the API stage's
 * 100 requests/s throttle (`lib/gateway-api.ts`), so one merchant's burst cannot take the others' share; a merchant
 * that needs more gets an override, the stage throttle is raised with the fleet.
 */
const DEFAULT_RATE = 25;
const DEFAULT_BURST = 50;
const DEFAULT_LEASE_SIZE = 10;

/**
 * A payer scanning a QR code or opening a cashier page pays within a minute or two, and the channel's callback follows
 * within seconds: five minutes lets the common case settle by callback, so the sync never asks about it.
 */
const DEFAULT_PAYMENT_SYNC_AFTER_SECONDS = 300;

/** Reads the configuration once; a missing variable fails the cold start loudly instead of a request quietly. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`environment variable ${name} is required`);
    return value;
  };
  const positive = (name: string, fallback: number, integer = false): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) {
      throw new Error(`environment variable ${name} must be a positive ${integer ? 'integer' : 'number'}, not ${raw}`);
    }
    return value;
  };
  return {
    tableName: required('TABLE_NAME'),
    publicBaseUrl: required('PUBLIC_BASE_URL').replace(/\/+$/, ''),
    secretCipher: env.MERCHANT_KEY_ID
      ? { kind: 'kms', keyId: env.MERCHANT_KEY_ID }
      : env.LOCAL_MASTER_KEY
        ? { kind: 'local', masterKey: env.LOCAL_MASTER_KEY }
        : { kind: 'none' },
    sandboxSecret: env.SANDBOX_SECRET_ARN
      ? { kind: 'secrets-manager', arn: env.SANDBOX_SECRET_ARN }
      : env.SANDBOX_SECRET
        ? { kind: 'env', value: env.SANDBOX_SECRET }
        : { kind: 'none' },
    sandboxEnabled: env.SANDBOX_ENABLED === 'true',
    notifyQueueUrl: env.NOTIFY_QUEUE_URL,
    notifyDlqUrl: env.NOTIFY_DLQ_URL,
    relayFailureQueueUrl: env.RELAY_FAILURE_QUEUE_URL,
    relayUndeliverableQueueUrl: env.RELAY_UNDELIVERABLE_QUEUE_URL,
    notifyRetryStateMachineArn: env.NOTIFY_RETRY_STATE_MACHINE_ARN,
    orderExpiryStateMachineArn: env.ORDER_EXPIRY_STATE_MACHINE_ARN,
    billsBucket: env.BILLS_BUCKET,
    reportsBucket: env.REPORTS_BUCKET,
    retrySchedule: {
      seconds: parseRetrySchedule(env.NOTIFY_RETRY_SCHEDULE),
      jitter: env.NOTIFY_RETRY_JITTER === undefined ? DEFAULT_RETRY_JITTER : Number(env.NOTIFY_RETRY_JITTER),
    },
    channelConfigTtlMs: nonNegative(env.CHANNEL_CONFIG_TTL_MS, 5000, 'CHANNEL_CONFIG_TTL_MS'),
    merchantCacheTtlMs: nonNegative(
      env.MERCHANT_CACHE_TTL_MS,
      env.AWS_LAMBDA_FUNCTION_NAME ? 1000 : 0,
      'MERCHANT_CACHE_TTL_MS',
    ),
    paymentSyncAfterMs: positive('PAYMENT_SYNC_AFTER_SECONDS', DEFAULT_PAYMENT_SYNC_AFTER_SECONDS, true) * 1000,
    riskCacheTtlMs: nonNegative(env.RISK_CACHE_TTL_MS, env.AWS_LAMBDA_FUNCTION_NAME ? 5000 : 0, 'RISK_CACHE_TTL_MS'),
    journalRetentionDays: nonNegative(env.JOURNAL_RETENTION_DAYS, 180, 'JOURNAL_RETENTION_DAYS'),
    channelSecretsDir: env.CHANNEL_SECRETS_DIR,
    riskEnabled: env.RISK_ENGINE !== 'off',
    // Never in a deployed function, whatever its environment says: loopback there is the Lambda sandbox itself.
    allowLoopbackHttp: env.ALLOW_LOOPBACK_HTTP === 'true' && !env.AWS_LAMBDA_FUNCTION_NAME,
    financeMerchantIds: (env.FINANCE_MERCHANT_IDS ?? '')
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean),
    rateLimits: {
      write: {
        rate: positive('RATE_LIMIT_WRITE_RATE', DEFAULT_RATE),
        burst: positive('RATE_LIMIT_WRITE_BURST', DEFAULT_BURST, true),
      },
      read: {
        rate: positive('RATE_LIMIT_READ_RATE', DEFAULT_RATE),
        burst: positive('RATE_LIMIT_READ_BURST', DEFAULT_BURST, true),
      },
      leaseSize: positive('RATE_LIMIT_LEASE_SIZE', DEFAULT_LEASE_SIZE, true),
    },
  };
}

function nonNegative(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,9}$/.test(value)) throw new Error(`${name} must be a whole number ≥ 0`);
  return Number(value);
}
