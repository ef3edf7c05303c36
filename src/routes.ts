/**
 * The gateway's functions and HTTP routes, declared once: the CDK stack creates one Lambda and its routes per entry,
 * the local gateway serves the same routes with the same handlers, and the fallback answers 404/405 from it.
 */
export interface FunctionSpec {
  /** CDK construct id. */
  id: string;
  /** Handler module (exports `handler`), relative to the project root. */
  entry: string;
  /** HTTP API route keys (`METHOD /path/{param}`). */
  routes: string[];
  /** What the function may touch: the grants are exactly these (least privilege). */
  access: {
    table: 'read' | 'readwrite';
    merchantKey: 'none' | 'decrypt';
    sandboxSecret: boolean;
    /** Sends to the notify queue (first attempts, replays). */
    notifyQueue?: boolean;
    /** Sends to the notify dead-letter queue (events whose retries ran out). */
    notifyDeadLetters?: boolean;
    /** Starts `notify-retry` executions. */
    startNotifyRetry?: boolean;
    /** Starts `order-expiry` executions. */
    startOrderExpiry?: boolean;
    /**
     * Reads the Alipay / WeChat Pay account secrets (Secrets Manager `pay-gateway/channels/*`, decrypted with the
     * channel-secrets key): every function that calls an external channel.
     */
    channelSecrets?: boolean;
    /** Reads channel bills (`BILLS_BUCKET`: `s3:GetObject` + the files key's `kms:Decrypt`). */
    billsRead?: boolean;
    /** Reads reports and presigns their URLs (`REPORTS_BUCKET`: `s3:GetObject`, HEAD, `kms:Decrypt`). */
    reportsRead?: boolean;
    /** Writes reports (`REPORTS_BUCKET`: `s3:PutObject`, `kms:GenerateDataKey`). */
    reportsWrite?: boolean;
  };
}

/** A function that no HTTP route calls: its event source. */
export interface WorkerSpec extends Omit<FunctionSpec, 'routes'> {
  trigger:
    | { kind: 'table-stream' }
    | { kind: 'notify-queue' }
    | { kind: 'state-machine-task'; stateMachine: 'notify-retry' | 'order-expiry'; substitution: string }
    /**
     * Reconciliation: an EventBridge schedule (daily, after the channels publish their bills; the function reconciles
     * yesterday UTC) and S3 `ObjectCreated` notifications of the bills bucket under `bills/`.
     */
    | { kind: 'schedule'; cron: string; billsCreated: true };
}

/** Merchant-authenticated routes read merchants (read) and claim nonces (write), and decrypt merchant secrets. */
const MERCHANT_API = { table: 'readwrite', merchantKey: 'decrypt', sandboxSecret: false } as const;

export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    id: 'CreatePayment',
    entry: 'functions/create-payment.ts',
    routes: ['POST /v1/payments'],
    access: { ...MERCHANT_API, channelSecrets: true },
  },
  {
    id: 'GetPayment',
    entry: 'functions/get-payment.ts',
    routes: ['GET /v1/payments/{id}', 'GET /v1/payments'],
    access: MERCHANT_API,
  },
  {
    id: 'ClosePayment',
    entry: 'functions/close-payment.ts',
    routes: ['POST /v1/payments/{id}/close'],
    access: { ...MERCHANT_API, channelSecrets: true },
  },
  {
    id: 'GetEvent',
    entry: 'functions/get-event.ts',
    routes: ['GET /v1/events/{id}'],
    access: MERCHANT_API,
  },
  {
    id: 'ReplayEvent',
    entry: 'functions/replay-event.ts',
    routes: ['POST /v1/events/{id}/replay'],
    access: { ...MERCHANT_API, notifyQueue: true },
  },
  {
    id: 'Callback',
    entry: 'functions/callback.ts',
    routes: ['POST /v1/callbacks/{channel}'],
    access: { table: 'readwrite', merchantKey: 'none', sandboxSecret: true, channelSecrets: true },
  },
  {
    id: 'Balance',
    entry: 'functions/balance.ts',
    routes: ['GET /v1/accounts/{account_id}/balance'],
    access: MERCHANT_API,
  },
  {
    id: 'Ledger',
    entry: 'functions/ledger.ts',
    routes: ['GET /v1/accounts/{account_id}/ledger'],
    access: MERCHANT_API,
  },
  {
    id: 'CreateRefund',
    entry: 'functions/create-refund.ts',
    routes: ['POST /v1/refunds'],
    access: { ...MERCHANT_API, channelSecrets: true },
  },
  {
    id: 'GetRefund',
    entry: 'functions/get-refund.ts',
    routes: ['GET /v1/refunds/{id}'],
    access: { ...MERCHANT_API, channelSecrets: true },
  },
  {
    id: 'SandboxCashier',
    entry: 'functions/sandbox-cashier.ts',
    routes: [
      'GET /sandbox/checkout/{payment_id}',
      'POST /sandbox/checkout/{payment_id}',
      'GET /sandbox/refunds/{refund_id}',
      'POST /sandbox/refunds/{refund_id}',
    ],
    // readwrite: the simulated channel records its refund decisions (SANDBOX#… items).
    access: { table: 'readwrite', merchantKey: 'none', sandboxSecret: true },
  },
  {
    id: 'GetReconciliation',
    entry: 'functions/get-reconciliation.ts',
    routes: ['GET /v1/reconciliations/{date}'],
    access: { ...MERCHANT_API, reportsRead: true },
  },
  {
    id: 'NotFound',
    entry: 'functions/not-found.ts',
    routes: ['$default'],
    access: { table: 'read', merchantKey: 'none', sandboxSecret: false },
  },
];

const TASK = { table: 'readwrite', merchantKey: 'none', sandboxSecret: false } as const;

/**
 * The functions behind the table stream, the notify queue, the state machines' tasks and the reconciliation schedule.
 * The expiry paths ask the channels (`queryPayment`/`closePayment`): the sandbox keeps its records in the table, the
 * external channels need their account secrets (`channelSecrets`).
 */
export const WORKERS: readonly WorkerSpec[] = [
  {
    id: 'OutboxRelay',
    entry: 'functions/outbox-relay.ts',
    trigger: { kind: 'table-stream' },
    access: { ...TASK, notifyQueue: true, startOrderExpiry: true, channelSecrets: true },
  },
  {
    id: 'Notify',
    entry: 'functions/notify.ts',
    trigger: { kind: 'notify-queue' },
    access: { ...TASK, merchantKey: 'decrypt', startNotifyRetry: true },
  },
  {
    id: 'NotifyAttempt',
    entry: 'functions/notify-attempt.ts',
    trigger: { kind: 'state-machine-task', stateMachine: 'notify-retry', substitution: 'NotifyAttemptFunctionArn' },
    access: { ...TASK, merchantKey: 'decrypt' },
  },
  {
    id: 'NotifyFailed',
    entry: 'functions/notify-failed.ts',
    trigger: { kind: 'state-machine-task', stateMachine: 'notify-retry', substitution: 'NotifyFailedFunctionArn' },
    access: { ...TASK, notifyDeadLetters: true },
  },
  {
    id: 'ExpireBucket',
    entry: 'functions/expire-bucket.ts',
    trigger: { kind: 'state-machine-task', stateMachine: 'order-expiry', substitution: 'ExpireBucketFunctionArn' },
    access: { ...TASK, channelSecrets: true },
  },
  {
    id: 'Reconcile',
    entry: 'functions/reconcile.ts',
    // 10:30 Asia/Shanghai: Alipay and WeChat Pay publish the previous day's bill by ~10:00.
    trigger: { kind: 'schedule', cron: 'cron(30 2 * * ? *)', billsCreated: true },
    // Repairs apply payment results (writes, outbox events) and confirm with the channels first.
    access: { ...TASK, sandboxSecret: true, channelSecrets: true, billsRead: true, reportsWrite: true },
  },
];

/** The reconcile worker (schedule + bills-bucket notifications), one of {@link WORKERS}. */
export const RECONCILE_WORKER: WorkerSpec = WORKERS.find((spec) => spec.id === 'Reconcile') as WorkerSpec;

/** A compiled route: method, a matcher for the path, and the names of its path parameters. */
export interface CompiledRoute {
  method: string;
  pattern: RegExp;
  params: string[];
  spec: FunctionSpec;
}

export const COMPILED_ROUTES: readonly CompiledRoute[] = FUNCTIONS.flatMap((spec) =>
  spec.routes
    .filter((route) => route !== '$default')
    .map((route) => {
      const [method = '', path = ''] = route.split(' ');
      const params: string[] = [];
      const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([a-z_]+)\}/g, (_, name: string) => {
        params.push(name);
        return '([^/]+)';
      });
      return { method, pattern: new RegExp(`^${source}$`), params, spec };
    }),
);

/**
 * Matches a request to a route: the route, a path known only for other methods (405), or nothing (404). A path whose
 * percent-encoding cannot be decoded names no resource, so it matches nothing.
 */
export function matchRoute(
  method: string,
  path: string,
):
  | { kind: 'route'; route: CompiledRoute; pathParameters: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' } {
  if (!isDecodable(path)) return { kind: 'not-found' };
  const allowed: string[] = [];
  for (const route of COMPILED_ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (route.method !== method.toUpperCase()) {
      allowed.push(route.method);
      continue;
    }
    const pathParameters = Object.fromEntries(
      route.params.map((name, index) => [name, decodeURIComponent(match[index + 1] ?? '')]),
    );
    return { kind: 'route', route, pathParameters };
  }
  return allowed.length ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' };
}

function isDecodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}
