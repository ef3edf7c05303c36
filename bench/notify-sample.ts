/**
 * The notification sample: payments through the REAL asynchronous path on the local runtime — the outbox relay
 * (functions/outbox-relay.ts) on the table's stream, the notify consumer (functions/notify.ts) on the local notify
 * queue, and both state machines from the shared ASL files with their real task handlers — with every SQS request,
 * Step Functions API request, Lambda invocation and state transition counted. Runs in its own process
 * (notify-sample-main.ts): the gateway's container is created once per process from the environment, and this sample
 * needs its own table, queues and state machine ARNs, and a short retry schedule.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBRecord } from 'aws-lambda';
import type { FunctionMeter } from './notify-meters.ts';

/** What the parent asks the sample process to do. */
export interface NotifySampleConfig {
  projectRoot: string;
  /** DynamoDB Local to use (the bench's own; the sample creates its own table in it). */
  dynamoEndpoint: string;
  /** Payments in the sample. */
  payments: number;
  /** Assumed arrival rate: the sample's payments are created `86,400 / paymentsPerDay` simulated seconds apart. */
  paymentsPerDay: number;
  /** Every `failEvery`-th payment's merchant refuses the first delivery (503) and acknowledges the retry. */
  failEvery: number;
  /** Concurrent payment creators (one wallet account each). */
  concurrency: number;
  /** Where the result JSON goes. */
  outFile: string;
  /** Where the sample keeps its current phase, so that a parent that gives up on it can say where it stood. */
  progressFile: string;
}

/** The executions of one state machine. */
export interface ExecutionSummary {
  executions: number;
  succeeded: number;
  transitions: number;
  /** Transitions per execution → how many executions had that many. */
  transitionsHistogram: Record<string, number>;
}

/** One function's invocations, summarised. */
export interface FunctionSummary {
  name: string;
  invocations: number;
  records: number;
  meanMs: number;
  maxMs: number;
  /** Σ ceil(duration) over invocations: Lambda bills duration per invocation rounded up to the next 1 ms. */
  billedMs: number;
  failures: number;
}

/** Everything the sample measured. */
export interface NotifySampleResult {
  payments: number;
  failEvery: number;
  failingFirst: number;
  paymentsPerDay: number;
  spacingSeconds: number;
  simulatedMinutes: number;
  expireInSeconds: number;
  /** Distinct expiry minutes of the sample's payments: the order-expiry executions there must be. */
  buckets: number;
  waitTimeScale: number;
  longestTimerSeconds: number;
  retrySchedule: string;
  concurrency: number;
  /** From the first payment to the last delivery, timer and delete. */
  elapsedMs: number;
  createElapsedMs: number;
  events: { total: number; delivered: number; oneAttempt: number; twoAttempts: number };
  merchant: { acknowledged: number; refused: number };
  notifyRetry: ExecutionSummary;
  orderExpiry: ExecutionSummary;
  /** SQS requests by operation during the run; `emptyReceives` are ReceiveMessage calls that returned nothing. */
  sqs: { calls: Record<string, number>; emptyReceives: number; receivedMessages: number };
  /** Step Functions API requests by operation (not billed for Standard workflows; transitions are). */
  sfnApi: Record<string, number>;
  /** Distinct execution names StartExecution was called with. */
  sfnStartedNames: number;
  lambdas: FunctionSummary[];
}

/** How long the longest expiry timer may take in wall time; the wait scale is derived from it. */
const LONGEST_TIMER_WALL_MS = 3000;
/** The API's default `expire_in_seconds`, which the sample's payments use. */
const EXPIRE_IN_SECONDS = 1800;
/** Short, so a delivery that keeps failing ends FAILED quickly (and the run fails loudly); the first retry is 1 s. */
const RETRY_SCHEDULE = '1,5,30';
const MERCHANT_ID = 'mch_notify_sample';
const DELIVERY_TIMEOUT_MS = 90_000;

/** Runs the sample end to end and returns its measurements; fails on anything not delivered exactly as expected. */
export async function runNotifySample(config: NotifySampleConfig): Promise<NotifySampleResult> {
  const began = performance.now();
  const progress = (phase: string) => {
    const line = `+${((performance.now() - began) / 1000).toFixed(1)} s: ${phase}`;
    writeFileSync(config.progressFile, line);
    if (process.env.BENCH_NOTIFY_TRACE) console.error(`notification sample ${line}`);
  };
  progress('starting the local runtime');
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  const { ApiCallMeter, LambdaMeter } = await import('./notify-meters.ts');
  // Every SQS and Step Functions client in this process, the gateway's own included, is counted from here on.
  const sqsMeter = new ApiCallMeter();
  sqsMeter.install(SQSClient);
  const sfnMeter = new ApiCallMeter();
  sfnMeter.install(SFNClient);
  const pollerErrors: unknown[] = [];
  const onError = (error: unknown) => pollerErrors.push(error);
  const lambdas = new LambdaMeter(onError);

  const spacingSeconds = 86_400 / config.paymentsPerDay;
  const simulatedSeconds = (config.payments - 1) * spacingSeconds;
  // The last bucket's timer fires at the end of the minute its payment expires in.
  const longestTimerSeconds = simulatedSeconds + EXPIRE_IN_SECONDS + 60;
  const waitTimeScale = LONGEST_TIMER_WALL_MS / 1000 / longestTimerSeconds;
  process.env.NOTIFY_RETRY_SCHEDULE = RETRY_SCHEDULE;

  const { startLocalSqs, createQueues } = await import('../local/sqs.ts');
  const { pollQueue } = await import('../local/sqs-poller.ts');
  const { pollTableStream } = await import('../local/stream-poller.ts');
  const { startLocalStepFunctions, localStateMachine } = await import('../local/stepfunctions.ts');
  const { configureLocalEnvironment } = await import('../local/stack.ts');
  const { createGatewayTable } = await import('../local/tables.ts');
  const { STATE_MACHINES } = await import('#adapters/queue-definitions.ts');
  const { handler: relayHandler } = await import('../functions/outbox-relay.ts');
  const { handler: notifyHandler } = await import('../functions/notify.ts');
  const { handler: notifyAttemptHandler } = await import('../functions/notify-attempt.ts');
  const { handler: notifyFailedHandler } = await import('../functions/notify-failed.ts');
  const { handler: expireBucketHandler } = await import('../functions/expire-bucket.ts');
  const { SampleMerchantEndpoint } = await import('./notify-merchant.ts');

  const stops: (() => Promise<void>)[] = [];
  try {
    const merchantEndpoint = new SampleMerchantEndpoint();
    await merchantEndpoint.start();
    stops.push(() => merchantEndpoint.stop());
    const sqs = await startLocalSqs();
    stops.push(() => sqs.stop());
    const sfn = await startLocalStepFunctions({
      projectRoot: config.projectRoot,
      waitTimeScale,
      stateMachines: [
        localStateMachine(STATE_MACHINES.notifyRetry, {
          NotifyAttemptFunctionArn: lambdas.wrap('NotifyAttempt', notifyAttemptHandler),
          NotifyFailedFunctionArn: lambdas.wrap('NotifyFailed', notifyFailedHandler),
        }),
        localStateMachine(STATE_MACHINES.orderExpiry, {
          ExpireBucketFunctionArn: lambdas.wrap('ExpireBucket', expireBucketHandler),
        }),
      ],
    });
    stops.push(() => sfn.stop());
    const tableName = `pay-gateway-notify-sample-${randomBytes(4).toString('hex')}`;
    configureLocalEnvironment({
      dynamoEndpoint: config.dynamoEndpoint,
      // No HTTP API in this process: only the sandbox pay URLs are built from it, and nothing follows them.
      publicBaseUrl: 'http://127.0.0.1:9',
      secrets: {
        masterKey: randomBytes(32).toString('base64'),
        sandboxSecret: `sbx_${randomBytes(24).toString('hex')}`,
      },
      tableName,
      sqsEndpoint: sqs.endpoint,
      sfnEndpoint: sfn.endpoint,
    });
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const dynamo = new DynamoDBClient({});
    await createGatewayTable(dynamo, tableName);
    dynamo.destroy();
    const sqsClient = new SQSClient({});
    stops.push(async () => sqsClient.destroy());
    const queueUrls = await createQueues(sqsClient);

    // The event source mappings, as the CDK stack configures them (batch sizes, the relay's filter).
    const streamPoller = await pollTableStream({
      endpoint: config.dynamoEndpoint,
      tableName,
      handler: lambdas.wrap('OutboxRelay', relayHandler),
      filter: relayFilter,
      batchSize: 100,
      functionName: 'OutboxRelay',
      onError,
    });
    stops.push(() => streamPoller.stop());
    const queuePoller = pollQueue({
      client: sqsClient,
      queueUrl: queueUrls.notifyQueueUrl,
      handler: lambdas.wrap('Notify', notifyHandler),
      batchSize: 10,
      functionName: 'Notify',
      onError,
    });
    stops.push(() => queuePoller.stop());

    const { getContainer } = await import('#adapters/container.ts');
    const { createMerchant } = await import('#app/merchant-admin.ts');
    const container = getContainer();
    const { merchant } = await createMerchant(container, { id: MERCHANT_ID, name: 'Notification sample merchant' });
    // Let the poller make its one-off GetQueueAttributes before counting starts.
    await sleep(200);

    sqsMeter.start();
    sfnMeter.start();
    lambdas.start();
    const started = performance.now();
    const created = await createPayments(config, merchant, merchantEndpoint.base, spacingSeconds, (done) =>
      progress(`created and paid ${done} of ${config.payments} payments`),
    );
    const createElapsedMs = performance.now() - started;

    await until(
      () => {
        progress(`${merchantEndpoint.acknowledgedPaths()} of ${config.payments} notifications acknowledged`);
        return merchantEndpoint.acknowledgedPaths() >= config.payments;
      },
      `all ${config.payments} notifications acknowledged by the merchant`,
      pollerErrors,
    );
    progress('waiting for the running executions (expiry timers, retries) to end');
    await sfn.idle();
    progress('verifying the events in the table');
    const events = await until(
      async () => {
        const stored = await storedEvents(container.db, tableName);
        return stored.length >= config.payments && stored.every((e) => e.deliveryStatus === 'DELIVERED')
          ? stored
          : undefined;
      },
      'every event DELIVERED in the table',
      pollerErrors,
    );
    // Stopping lets the batch in hand finish, including its DeleteMessageBatch.
    progress('stopping the pollers');
    await queuePoller.stop();
    await streamPoller.stop();
    const elapsedMs = performance.now() - started;
    sqsMeter.stop();
    sfnMeter.stop();
    lambdas.stop();
    if (pollerErrors.length) throw new Error(`poller or handler failures: ${String(pollerErrors[0])}`);

    const verified = verifyEvents(events, created, merchantEndpoint.statuses);
    const notifyRetry = summarizeExecutions(sfn.executions(STATE_MACHINES.notifyRetry.name));
    const orderExpiry = summarizeExecutions(sfn.executions(STATE_MACHINES.orderExpiry.name));
    if (notifyRetry.executions !== created.failing || notifyRetry.succeeded !== notifyRetry.executions) {
      throw new Error(
        `expected ${created.failing} SUCCEEDED notify-retry executions (one per refused first delivery), got ` +
          `${notifyRetry.succeeded} of ${notifyRetry.executions}`,
      );
    }
    if (orderExpiry.executions !== created.buckets.size || orderExpiry.succeeded !== orderExpiry.executions) {
      throw new Error(
        `expected ${created.buckets.size} SUCCEEDED order-expiry executions (one per expiry minute), got ` +
          `${orderExpiry.succeeded} of ${orderExpiry.executions}`,
      );
    }
    return {
      payments: config.payments,
      failEvery: config.failEvery,
      failingFirst: created.failing,
      paymentsPerDay: config.paymentsPerDay,
      spacingSeconds,
      simulatedMinutes: simulatedSeconds / 60,
      expireInSeconds: EXPIRE_IN_SECONDS,
      buckets: created.buckets.size,
      waitTimeScale,
      longestTimerSeconds,
      retrySchedule: RETRY_SCHEDULE,
      concurrency: config.concurrency,
      elapsedMs,
      createElapsedMs,
      events: verified,
      merchant: { acknowledged: merchantEndpoint.acknowledged, refused: merchantEndpoint.refused },
      notifyRetry,
      orderExpiry,
      sqs: {
        calls: Object.fromEntries(sqsMeter.calls),
        emptyReceives: sqsMeter.emptyReceives,
        receivedMessages: sqsMeter.receivedMessages,
      },
      sfnApi: Object.fromEntries(sfnMeter.calls),
      sfnStartedNames: sfnMeter.names.get('StartExecution')?.size ?? 0,
      lambdas: [...lambdas.functions.values()].map(summarizeFunction),
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/** The relay's FilterCriteria on AWS (lib/gateway-workers.ts): inserts of outbox events and of pending payments. */
function relayFilter(record: DynamoDBRecord): boolean {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image) return false;
  return image.entity?.S === 'EVENT' || (image.entity?.S === 'PAYMENT' && image.status?.S === 'PENDING');
}

interface CreatedPayments {
  failing: number;
  /** Notify URL path → whether its first delivery is refused. */
  paths: Map<string, boolean>;
  buckets: Set<string>;
}

/**
 * Creates and pays the sample's payments through the use cases, `spacingSeconds` of simulated time apart (the use
 * cases get a clock at that time; the run itself takes seconds), each with its own notify URL on the local merchant.
 */
async function createPayments(
  config: NotifySampleConfig,
  merchant: import('#domain/merchant.ts').Merchant,
  merchantBase: string,
  spacingSeconds: number,
  onProgress: (done: number) => void,
): Promise<CreatedPayments> {
  const { getContainer } = await import('#adapters/container.ts');
  const { createPayment } = await import('#app/create-payment.ts');
  const { applyPaymentResult } = await import('#app/apply-payment-result.ts');
  const { createPaymentSchema } = await import('#app/payment-schemas.ts');
  const { parseInput } = await import('#app/validation.ts');
  const { expiryBucket } = await import('#domain/notification.ts');
  const { FAIL_FIRST_PREFIX, ACK_PREFIX } = await import('./notify-merchant.ts');
  const { runPool } = await import('./pool.ts');
  const container = getContainer();
  const schema = createPaymentSchema({ allowLoopbackHttp: true });
  const firstArrival = Date.now();
  const created: CreatedPayments = { failing: 0, paths: new Map(), buckets: new Set() };
  await runPool(config.payments, config.concurrency, async (index, worker) => {
    const failsFirst = index % config.failEvery === config.failEvery - 1;
    const path = `${failsFirst ? FAIL_FIRST_PREFIX : ACK_PREFIX}${index}`;
    const arrival = firstArrival + Math.round(index * spacingSeconds * 1000);
    const body = parseInput(schema, {
      order_no: `NS${index}`,
      amount: '10.00',
      subject: 'notification sample',
      channel: 'SANDBOX',
      // One account per creator: concurrent credits to one wallet would only measure version conflicts.
      account_id: `acct_notify_${worker}`,
      notify_url: `${merchantBase}${path}`,
    });
    const { payment } = await createPayment({ ...container, clock: () => new Date(arrival) }, merchant, body);
    // Paid 20 simulated seconds after it was created, well before it expires.
    const paid = await applyPaymentResult(
      { ...container, clock: () => new Date(arrival + 20_000) },
      {
        paymentId: payment.id,
        status: 'SUCCEEDED',
        amountMinor: payment.amountMinor,
        currency: payment.currency,
        channelTradeNo: `sbx_ns_${index}`,
      },
      'SANDBOX',
    );
    if (paid.payment.status !== 'SUCCEEDED') throw new Error(`payment ${payment.id} is ${paid.payment.status}`);
    created.paths.set(path, failsFirst);
    created.buckets.add(expiryBucket(payment.expiresAt));
    if (failsFirst) created.failing += 1;
    if (created.paths.size % 50 === 0) onProgress(created.paths.size);
  });
  return created;
}

interface StoredEventItem {
  id: string;
  type: string;
  notifyUrl?: string;
  deliveryStatus: string;
  attempts?: number;
}

/** Every outbox event in the sample's own table. */
async function storedEvents(
  db: import('@aws-sdk/lib-dynamodb').DynamoDBDocumentClient,
  tableName: string,
): Promise<StoredEventItem[]> {
  const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  const items: StoredEventItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: '#entity = :event',
        ExpressionAttributeNames: { '#entity': 'entity' },
        ExpressionAttributeValues: { ':event': 'EVENT' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((page.Items ?? []) as StoredEventItem[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/**
 * One `payment.succeeded` event per payment, each DELIVERED: in one attempt when its merchant acknowledged the first
 * delivery, in exactly two (503, then 204 on the scheduled retry) when it refused it.
 */
function verifyEvents(
  events: StoredEventItem[],
  created: CreatedPayments,
  statuses: ReadonlyMap<string, number[]>,
): NotifySampleResult['events'] {
  if (events.length !== created.paths.size) {
    throw new Error(`expected ${created.paths.size} events (one per payment), found ${events.length}`);
  }
  let oneAttempt = 0;
  let twoAttempts = 0;
  for (const event of events) {
    const path = event.notifyUrl ? new URL(event.notifyUrl).pathname : '';
    const failsFirst = created.paths.get(path);
    if (failsFirst === undefined) throw new Error(`event ${event.id} has an unexpected notify URL ${event.notifyUrl}`);
    const expected = failsFirst ? [503, 204] : [204];
    const seen = statuses.get(path) ?? [];
    if (
      event.type !== 'payment.succeeded' ||
      event.deliveryStatus !== 'DELIVERED' ||
      event.attempts !== expected.length ||
      seen.join() !== expected.join()
    ) {
      throw new Error(
        `event ${event.id} (${event.type}) is ${event.deliveryStatus} after ${event.attempts} attempts, merchant ` +
          `answered [${seen.join(', ')}]; expected DELIVERED after [${expected.join(', ')}]`,
      );
    }
    if (failsFirst) twoAttempts += 1;
    else oneAttempt += 1;
  }
  return { total: events.length, delivered: events.length, oneAttempt, twoAttempts };
}

function summarizeExecutions(executions: { status: string; transitions: number }[]): ExecutionSummary {
  const histogram: Record<string, number> = {};
  for (const execution of executions) {
    histogram[execution.transitions] = (histogram[execution.transitions] ?? 0) + 1;
  }
  return {
    executions: executions.length,
    succeeded: executions.filter((e) => e.status === 'SUCCEEDED').length,
    transitions: executions.reduce((sum, e) => sum + e.transitions, 0),
    transitionsHistogram: histogram,
  };
}

function summarizeFunction(meter: FunctionMeter): FunctionSummary {
  const total = meter.durationsMs.reduce((sum, ms) => sum + ms, 0);
  return {
    name: meter.name,
    invocations: meter.invocations,
    records: meter.records,
    meanMs: meter.invocations ? total / meter.invocations : 0,
    maxMs: meter.durationsMs.reduce((max, ms) => Math.max(max, ms), 0),
    billedMs: meter.durationsMs.reduce((sum, ms) => sum + Math.max(1, Math.ceil(ms)), 0),
    failures: meter.failures,
  };
}

/** Polls `check` until it returns a value, failing fast on a poller error and after {@link DELIVERY_TIMEOUT_MS}. */
async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  errors: unknown[],
): Promise<T> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    if (errors.length) throw new Error(`waiting for ${what}: ${String(errors[0])}`);
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${DELIVERY_TIMEOUT_MS} ms waiting for ${what}`);
    await sleep(100);
  }
}
