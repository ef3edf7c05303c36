/**
 * The gateway's functions and HTTP routes, declared once: the CDK stack creates one Lambda and its routes per entry,
 * the local gateway serves the same routes with the same handlers, and the fallback answers 404/405 from it.
 * Over 250 lines because each entry carries its least-privilege grants and the reason for each.
 */
export interface FunctionSpec {
  /** CDK construct id. */
  id: string;
  /** Handler module (exports `handler`), relative to the project root. */
  entry: string;
  /** HTTP API route keys (`METHOD /path/{param}`). */
  routes: string[];
  /** Only deployed when the sandbox channel is enabled (`cdk deploy -c sandbox=true`): its public test pages. */
  sandboxOnly?: boolean;
  /** What the function may touch: the grants are exactly these (least privilege). */
  access: {
    /** The DynamoDB calls its code path makes on the table (none: no table access at all). */
    table: TableAccess;
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
     * Re-drives the outbox relay's failures: consumes the relay failure queue (receive, delete, send back with a
     * delay), parks what it gives up on in the final queue (send), and reads the skipped batches back from the
     * table's stream (`GetShardIterator`, `GetRecords`).
     */
    relayFailures?: boolean;
    /**
     * Reads the Alipay / WeChat Pay account secrets (Secrets Manager `pay-gateway/channels/*`, decrypted with the
     * channel-secrets key): every function that calls an external channel.
     */
    channelSecrets?: boolean;
    /** Reads channel bills (`BILLS_BUCKET`: `s3:GetObject` + the files key's `kms:Decrypt`). */
    billsRead?: boolean;
    /** Writes channel bills (`BILLS_BUCKET`: `s3:PutObject`, `kms:GenerateDataKey`): the bill download. */
    billsWrite?: boolean;
    /** Reads reports and presigns their URLs (`REPORTS_BUCKET`: `s3:GetObject`, HEAD, `kms:Decrypt`). */
    reportsRead?: boolean;
    /** Writes reports (`REPORTS_BUCKET`: `s3:PutObject`, `kms:GenerateDataKey`). */
    reportsWrite?: boolean;
  };
}

/**
 * A function's DynamoDB access, from the calls its code path makes (the repositories in `src/adapters/dynamo/`).
 * A `TransactWriteItems` needs no action of its own: each `Put`/`Update`/`ConditionCheck` in it is authorised as
 * `PutItem`/`UpdateItem`/`ConditionCheckItem`. Nobody scans, deletes or batch-writes.
 */
export interface TableAccess {
  /** Item-level actions on the table's items. */
  actions: readonly TableAction[];
  /** The global secondary indexes it queries: `Query` on `<table>/index/<name>` (not on the table itself). */
  indexes?: readonly ('GSI1' | 'GSI2' | 'GSI3')[];
  /**
   * Claims merchant request nonces (`DynamoNonceStore`): a conditional `PutItem` on `NONCE#…` partitions only
   * (`dynamodb:LeadingKeys`), so an otherwise read-only function can authenticate but write nothing else.
   */
  claimsNonces?: boolean;
  /**
   * Leases rate-limit tokens (`DynamoRateLimitStore`): a conditional `UpdateItem` on `RATE#…` partitions only, so every
   * merchant route is limited without being able to update anything else.
   */
  leasesRateTokens?: boolean;
}

/** A DynamoDB item action a function may be granted on the table. */
export type TableAction = 'GetItem' | 'BatchGetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'ConditionCheckItem';

/** A function that no HTTP route calls: its event source. */
export interface WorkerSpec extends Omit<FunctionSpec, 'routes'> {
  trigger:
    | { kind: 'table-stream' }
    | { kind: 'notify-queue' }
    | { kind: 'state-machine-task'; stateMachine: 'notify-retry' | 'order-expiry'; substitution: string }
    /**
     * An EventBridge schedule and, with `billsCreated`, S3 `ObjectCreated` notifications of the bills bucket under
     * `bills/` for keys ending so (`.csv`: a bill to reconcile; `.csv.zip`: an archive to unpack).
     */
    | { kind: 'schedule'; cron: string; billsCreated?: '.csv' | '.csv.zip' };
}

/**
 * Merchant-authenticated routes read the merchant (`GetItem`), decrypt its secret, claim the request's nonce and take
 * a token from the merchant's rate-limit bucket; what else they touch in the table is their own.
 */
function merchantApi(...actions: TableAction[]) {
  return {
    table: { actions: ['GetItem', ...actions], claimsNonces: true, leasesRateTokens: true },
    merchantKey: 'decrypt',
    sandboxSecret: false,
  } as const satisfies FunctionSpec['access'];
}

/** A merchant listing: what every merchant route reads, plus `Query` on GSI1 (never on the table itself). */
function listingApi() {
  const api = merchantApi();
  return { ...api, table: { ...api.table, indexes: ['GSI1'] } } as const satisfies FunctionSpec['access'];
}

/**
 * The HTTP functions. Table access follows the shared code paths: a payment or refund result (callback, channel
 * query, expiry, repair) is applied by reading the payment, refund and wallets and committing ONE TransactWriteItems
 * of conditional Puts; the sandbox channel keeps its records as conditional Puts/Updates of SANDBOX#… items; the
 * Alipay / WeChat Pay adapters read their channel profile (GetItem); the breaker reads and conditionally puts its
 * CHANNEL#… health items.
 */
export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    id: 'CreatePayment',
    entry: 'functions/create-payment.ts',
    routes: ['POST /v1/payments'],
    // Routing reads the channel profiles and breaker states (BatchGetItem), reserves the daily volume (UpdateItem)
    // and may claim a breaker probe (PutItem); the risk check batch-reads its items (BatchGetItem); a balance payment
    // reads both wallets; the payment commits (PutItem) with its risk counters and activity (UpdateItem).
    access: { ...merchantApi('BatchGetItem', 'PutItem', 'UpdateItem'), channelSecrets: true },
  },
  {
    id: 'GetPayment',
    entry: 'functions/get-payment.ts',
    routes: ['GET /v1/payments/{id}'],
    // The payment, and its channel message journal partition (Query of JOURNAL#{payment}) for channel_attempts.
    access: merchantApi('Query'),
  },
  {
    id: 'ListPayments',
    entry: 'functions/list-payments.ts',
    routes: ['GET /v1/payments'],
    // `?order_no=`: its guard then the payment; otherwise a page of the merchant's GSI1 partition (Query).
    access: listingApi(),
  },
  {
    id: 'ListRefunds',
    entry: 'functions/list-refunds.ts',
    routes: ['GET /v1/refunds'],
    // `?payment_id=`: the payment (GetItem); a page of the merchant's refunds partition of GSI1 (Query).
    access: listingApi(),
  },
  {
    id: 'ListEvents',
    entry: 'functions/list-events.ts',
    routes: ['GET /v1/events'],
    // A page of the merchant's events partition of GSI1 (Query).
    access: listingApi(),
  },
  {
    id: 'ClosePayment',
    entry: 'functions/close-payment.ts',
    routes: ['POST /v1/payments/{id}/close'],
    // Closes at the channel (the sandbox records it: PutItem), then commits the closed payment (PutItem) with its
    // risk limits and channel volume given back (UpdateItem).
    access: { ...merchantApi('PutItem', 'UpdateItem'), channelSecrets: true },
  },
  {
    id: 'GetEvent',
    entry: 'functions/get-event.ts',
    routes: ['GET /v1/events/{id}'],
    // The event, then its attempts (Query of the event's partition).
    access: merchantApi('Query'),
  },
  {
    id: 'ReplayEvent',
    entry: 'functions/replay-event.ts',
    routes: ['POST /v1/events/{id}/replay'],
    // Reads the event and its latest attempt; claims the replay (a conditional UpdateItem of the event) with its
    // audit entry (PutItem) in one transaction.
    access: { ...merchantApi('Query', 'PutItem', 'UpdateItem'), notifyQueue: true },
  },
  {
    id: 'Callback',
    entry: 'functions/callback.ts',
    routes: ['POST /v1/callbacks/{channel}'],
    // Applies the verified result: reads, then ONE transaction of conditional Puts and the counter updates a
    // failure (limits given back) or a late success (taken again) makes.
    access: {
      table: { actions: ['GetItem', 'PutItem', 'UpdateItem'] },
      merchantKey: 'none',
      sandboxSecret: true,
      channelSecrets: true,
    },
  },
  {
    id: 'Balance',
    entry: 'functions/balance.ts',
    routes: ['GET /v1/accounts/{account_id}/balance'],
    // The account's sub-balance count, then its wallet item (a hot account: each sub-balance's), all GetItem.
    access: merchantApi(),
  },
  {
    id: 'Ledger',
    entry: 'functions/ledger.ts',
    routes: ['GET /v1/accounts/{account_id}/ledger'],
    // The sub-balance count (GetItem), then a page of each sub-ledger's partition (Query), merged.
    access: merchantApi('Query'),
  },
  {
    id: 'CreateRefund',
    entry: 'functions/create-refund.ts',
    routes: ['POST /v1/refunds'],
    // Freezes and records the refund (PutItem), submits it to the channel (the sandbox records it; the breaker
    // records the outcome: PutItem); a balance refund is applied at once.
    access: { ...merchantApi('PutItem'), channelSecrets: true },
  },
  {
    id: 'GetRefund',
    entry: 'functions/get-refund.ts',
    routes: ['GET /v1/refunds/{id}'],
    // A PROCESSING refund is synchronised with the channel, and a final answer applied like a callback (PutItem).
    access: { ...merchantApi('PutItem'), channelSecrets: true },
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
    sandboxOnly: true,
    // The cashier reads the payment and its merchant's name (GetItem); the simulated channel decides a payment
    // (conditional PutItem) or a refund (conditional UpdateItem) of its SANDBOX#… records; the callback it then posts
    // goes through the Callback function.
    access: { table: { actions: ['GetItem', 'PutItem', 'UpdateItem'] }, merchantKey: 'none', sandboxSecret: true },
  },
  {
    id: 'GetReconciliation',
    entry: 'functions/get-reconciliation.ts',
    routes: ['GET /v1/reconciliations/{date}'],
    // The channel-day's latest (or named) run item, and its runs (Query of the channel-day's partition).
    access: { ...merchantApi('Query'), reportsRead: true },
  },
  {
    id: 'OpenApi',
    entry: 'functions/openapi.ts',
    routes: ['GET /v1/openapi.json'],
    // Built from the schemas in code: no table, key or secret.
    access: { table: { actions: [] }, merchantKey: 'none', sandboxSecret: false },
  },
  {
    id: 'NotFound',
    entry: 'functions/not-found.ts',
    routes: ['$default'],
    // Answers from the route table alone.
    access: { table: { actions: [] }, merchantKey: 'none', sandboxSecret: false },
  },
];

/**
 * A worker that reads and commits (conditional Puts in one transaction, with the risk and channel-volume counter
 * updates a payment's close or failure makes) and holds no key or secret of its own.
 */
const TASK = {
  table: { actions: ['GetItem', 'PutItem', 'UpdateItem'] },
  merchantKey: 'none',
  sandboxSecret: false,
} as const satisfies FunctionSpec['access'];

/** A notification delivery: reads the event and merchant, records the attempt (Put + Update of the event). */
const DELIVERY = TASK;

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
    access: { ...DELIVERY, merchantKey: 'decrypt', startNotifyRetry: true },
  },
  {
    id: 'NotifyAttempt',
    entry: 'functions/notify-attempt.ts',
    trigger: { kind: 'state-machine-task', stateMachine: 'notify-retry', substitution: 'NotifyAttemptFunctionArn' },
    access: { ...DELIVERY, merchantKey: 'decrypt' },
  },
  {
    id: 'NotifyFailed',
    entry: 'functions/notify-failed.ts',
    trigger: { kind: 'state-machine-task', stateMachine: 'notify-retry', substitution: 'NotifyFailedFunctionArn' },
    // Marks the event FAILED (UpdateItem) and parks it in the dead-letter queue.
    access: { ...TASK, table: { actions: ['GetItem', 'UpdateItem'] }, notifyDeadLetters: true },
  },
  {
    id: 'ExpireBucket',
    entry: 'functions/expire-bucket.ts',
    trigger: { kind: 'state-machine-task', stateMachine: 'order-expiry', substitution: 'ExpireBucketFunctionArn' },
    // Pages through the minute bucket (Query of the sparse GSI3): expires its pending orders, syncs its processing
    // refunds with their channels, and arms a later minute's timer for what it could not settle yet.
    access: {
      ...TASK,
      table: { ...TASK.table, indexes: ['GSI3'] },
      channelSecrets: true,
      startOrderExpiry: true,
    },
  },
  {
    id: 'RelayRedrive',
    entry: 'functions/relay-redrive.ts',
    // Every 5 minutes: the stream batches the relay gave up on are relayed again (bounded per run, growing delay);
    // only one still undeliverable after its last attempt reaches the final queue, which alarms.
    trigger: { kind: 'schedule', cron: 'rate(5 minutes)' },
    // What the relay itself does with an inserted item (queue an event, arm or run a timer), plus the failure queue
    // and the stream.
    access: { ...TASK, notifyQueue: true, startOrderExpiry: true, channelSecrets: true, relayFailures: true },
  },
  {
    id: 'FetchBills',
    entry: 'functions/fetch-bills.ts',
    // Hourly 10:00–16:00 Asia/Shanghai (channels publish the previous day's bill by ~10:00): a bill not published
    // yet is asked for again the next hour, one already stored is left alone. A `.csv.zip` uploaded by hand is
    // unpacked. The stored `.csv` triggers Reconcile.
    trigger: { kind: 'schedule', cron: 'cron(0 2-8 * * ? *)', billsCreated: '.csv.zip' },
    // The channel profiles (GetItem) and their secrets (Alipay / WeChat Pay download through their signed clients),
    // and the sandbox's own records of the day (Query of GSI2).
    access: {
      table: { actions: ['GetItem'], indexes: ['GSI2'] },
      merchantKey: 'none',
      sandboxSecret: false,
      channelSecrets: true,
      billsRead: true,
      billsWrite: true,
    },
  },
  {
    id: 'Reconcile',
    entry: 'functions/reconcile.ts',
    // A stored bill is reconciled when it lands (S3); the daily run at 10:30 Asia/Shanghai reconciles every enabled
    // channel's previous business day anyway (a bill still missing is MISSING_BILL and alarms, unless the gateway
    // settled nothing of that channel-day either: a day without trades, COMPLETED as NO_ACTIVITY).
    trigger: { kind: 'schedule', cron: 'cron(30 2 * * ? *)', billsCreated: '.csv' },
    // Repairs apply payment results (writes, outbox events) and confirm with the channels first.
    // The channel-day's settled payments and refunds (Query of GSI2), the bill's other ids (BatchGetItem), the
    // summary item (PutItem); the fee schedules (GetItem) and one fee record per settled line (conditional Puts,
    // 100 per TransactWriteItems).
    access: {
      ...TASK,
      table: { actions: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'], indexes: ['GSI2'] },
      sandboxSecret: true,
      channelSecrets: true,
      billsRead: true,
      reportsWrite: true,
    },
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
