// Long because it holds section 6's whole sample harness (handlers, pollers, workflows, a merchant stub, the event
// checks) and that sample's process entry point, besides the figures and the printing.
/**
 * Section 6: payments through the REAL asynchronous path (outbox relay on the table stream, notify consumer on the SQS
 * queue, notify-retry and order-expiry from statemachines/*.asl.json), counting every SQS and Step Functions request,
 * transition and Lambda invocation, then pricing this design's per-payment counts per million payments (capacity.ts
 * `PRICES`; docs/cost-model.md has the formulas and the naive-design comparison). Its own process: the container is
 * created once per process from the environment, and the sample needs its own DynamoDB Local (after sections 1–4 its
 * stream-enabled writes are several times slower).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBRecord } from 'aws-lambda';
import { PRICES } from './capacity.ts';
import { runChild, runPool } from './flows.ts';
import { heading, indent, keyValues, num, table, usd } from './report.ts';
import type { BenchOptions } from './run.ts';

/**
 * What the parent asks the sample process to do (JSON in BENCH_NOTIFY_CONFIG): payments arrive `86,400 / paymentsPerDay`
 * simulated seconds apart; every `failEvery`-th payment's merchant refuses the first delivery (503), acknowledges the retry.
 */
type SampleConfig = { projectRoot: string; dynamoEndpoint: string; payments: number; paymentsPerDay: number } & {
  failEvery: number;
  outFile: string;
  progressFile: string;
};
type Sample = Awaited<ReturnType<typeof runSample>>;

// The longest expiry timer's wall time (sets the Wait-state scale); the API's default `expire_in_seconds`; a short
// retry schedule, so a delivery that keeps failing ends FAILED quickly (and the run fails loudly).
const [LONGEST_TIMER_WALL_MS, EXPIRE_IN_SECONDS, RETRY_SCHEDULE] = [3000, 1800, '1,5,30'];
const GB = PRICES.lambdaMemoryMb / 1024;
const SQS_IDLE_RECEIVES_PER_DAY = (PRICES.sqsIdlePollers * 86_400) / PRICES.sqsLongPollSeconds;

/** Runs the sample in its own process, derives the figures, prints section 6, returns BENCH_RESULT `notifications`. */
export async function measureNotifications(projectRoot: string, options: BenchOptions) {
  const started = performance.now();
  const { startDynamoDbLocal } = await import('../local/dynamodb-local.ts');
  const dynamo = await startDynamoDbLocal();
  const dir = mkdtempSync(join(tmpdir(), 'pay-gateway-notify-'));
  try {
    const { notifySample: payments, notifyPaymentsPerDay: paymentsPerDay, notifyFailEvery: failEvery } = options;
    const files = { outFile: join(dir, 'result.json'), progressFile: join(dir, 'progress.txt') };
    const run = { payments, paymentsPerDay, failEvery, ...files };
    const config: SampleConfig = { projectRoot, dynamoEndpoint: dynamo.endpoint, ...run };
    await runChild({
      label: 'notification sample',
      script: import.meta.filename,
      cwd: projectRoot,
      env: { BENCH_NOTIFY_CONFIG: JSON.stringify(config) },
      timeoutMs: 180_000,
      where: () => readFileSync(config.progressFile, 'utf8'),
    });
    const sample: Sample = JSON.parse(readFileSync(config.outFile, 'utf8'));
    const figures = notificationFigures(sample, performance.now() - started);
    printNotificationSection(figures);
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dynamo.stop();
  }
}

/**
 * This design per payment — measured retry executions, SQS requests (idle receives excluded: they scale with time)
 * and Lambda work; expiry executions follow from the arrival rate (one per minute that has an order, each as
 * measured) — and its cost per million payments (docs/cost-model.md, "Formulas").
 */
function notificationFigures(sample: Sample, sectionMs: number) {
  const { payments: n, payments_per_day: perDay, notify_retry: retry, order_expiry: expiry } = sample;
  const bucketsPerDay = Math.min(1440, perDay);
  const expiryPerPayment = bucketsPerDay / perDay;
  const executions = [
    {
      machine: 'notify-retry',
      per_payment: retry.executions / n,
      transitions_each: retry.executions ? retry.transitions / retry.executions : 0,
      basis: 'measured: one per refused first delivery',
    },
    {
      machine: 'order-expiry',
      per_payment: expiryPerPayment,
      transitions_each: expiry.transitions / expiry.executions,
      basis: `${num(bucketsPerDay)} minute buckets a day ÷ ${num(perDay)} payments a day`,
    },
  ];
  const sqsTotal = Object.values(sample.sqs_requests).reduce((sum, count) => sum + count, 0);
  // ExpireBucket runs once per expiry execution: scaled by the arrival rate's executions, not the sample's.
  const lambdas = sample.lambdas
    .filter((fn) => fn.invocations > 0)
    .map((fn) => {
      const scale = fn.name === 'ExpireBucket' ? expiryPerPayment / expiry.executions : 1 / n;
      return { name: fn.name, invocations: fn.invocations * scale, gb_s: (fn.billed_ms / 1000) * GB * scale };
    });
  const design = {
    executions,
    transitions: executions.reduce((sum, e) => sum + e.per_payment * e.transitions_each, 0),
    sqs_requests: (sqsTotal - sample.sqs_empty_receives) / n,
    sqs_idle_receives_per_day: SQS_IDLE_RECEIVES_PER_DAY,
    lambdas,
    lambda_invocations: lambdas.reduce((sum, fn) => sum + fn.invocations, 0),
    lambda_gb_s: lambdas.reduce((sum, fn) => sum + fn.gb_s, 0),
  };
  const cost = {
    sfn: ((1e6 * design.transitions) / 1000) * PRICES.sfnPer1000Transitions,
    sqs: design.sqs_requests * PRICES.sqsPerMillionRequests,
    sqs_idle: ((1e6 / perDay) * SQS_IDLE_RECEIVES_PER_DAY * PRICES.sqsPerMillionRequests) / 1e6,
    lambda_requests: design.lambda_invocations * PRICES.lambdaPerMillionRequests,
    lambda_duration: 1e6 * design.lambda_gb_s * PRICES.lambdaArmPerGbSecond,
  };
  const total = Object.values(cost).reduce((sum, value) => sum + value, 0);
  return {
    sample: { ...sample, section_ms: sectionMs },
    expiry_buckets_per_day: bucketsPerDay,
    per_payment: { this_design: design },
    cost_per_million_usd: { this_design: total, sfn_share_this_design: cost.sfn / total, ...cost },
  };
}
type Figures = ReturnType<typeof notificationFigures>;

/** Prints section 6. */
function printNotificationSection(f: Figures): void {
  const [s, d, c] = [f.sample, f.per_payment.this_design, f.cost_per_million_usd];
  const n = s.payments;
  console.log(heading('6. Notifications and expiry timers: Step Functions, SQS and Lambda cost vs the naive design'));
  console.log(
    indent(
      `measured on the local runtime: ${num(n)} payments (BENCH_NOTIFY_SAMPLE) through the real handlers — outbox\n` +
        'relay on the table stream (batch 100, the CDK filter), notify on the SQS queue (batch 10), notify-retry and\n' +
        'order-expiry from statemachines/*.asl.json with their task handlers, all in a process of their own\n',
    ),
  );
  const ps = (value: number) => `${num(value)} of ${num(n)} (${num((100 * value) / n, 1)} %)`;
  const [retry, expiry, events, secs] = [s.notify_retry, s.order_expiry, s.events, (ms: number) => num(ms / 1000, 1)];
  const arrivals =
    `${num(s.payments_per_day)} payments/day assumed (BENCH_NOTIFY_PER_DAY), evenly: one every ${num(s.spacing_s, 2)}` +
    ` s of simulated time (${num(s.simulated_minutes, 1)} minutes); each paid 20 s after creation, expiring ` +
    `${num(EXPIRE_IN_SECONDS / 60)} min after it`;
  const verified =
    `${num(events.delivered)}/${num(events.total)} events DELIVERED (${num(events.one_attempt)} in 1 attempt, ` +
    `${num(events.two_attempts)} in 2: 503 then 204); ${num(retry.executions)} notify-retry and ` +
    `${num(expiry.executions)} order-expiry executions, all SUCCEEDED`;
  const merchant =
    `1 in ${s.fail_every} payments' endpoints (BENCH_NOTIFY_FAIL_EVERY) answer 503 to the first delivery, 204 to ` +
    `everything else: ${ps(s.failing_first)} need exactly one retry`;
  const time = `Wait states ×${s.wait_time_scale.toPrecision(3)} (the longest timer takes 3 s); NOTIFY_RETRY_SCHEDULE`;
  const wall = `${secs(s.elapsed_ms)} s from the first payment to the last delete (creating them: `;
  const pairs: [string, string][] = [
    ['arrivals', arrivals],
    ['merchant', merchant],
    ['time', `${time} ${s.retry_schedule_s} s`],
    ['verified', verified],
    ['wall time', `${wall}${secs(s.create_elapsed_ms)} s); section ${secs(s.section_ms)} s`],
  ];
  console.log(keyValues(pairs, 118));
  const sqs = s.sqs_requests;
  const busy = (sqs.ReceiveMessage ?? 0) - s.sqs_empty_receives;
  const each = (m: { executions: number; transitions: number }) => num(m.executions ? m.transitions / m.executions : 0);
  const perBusy = num(s.sqs_received_messages / Math.max(1, busy), 2);
  const standard = ['SendMessage', 'ReceiveMessage', 'DeleteMessageBatch'];
  const sampleRows: [string, number, string][] = [
    ['notify-retry executions', retry.executions, 'one per refused first delivery'],
    ['  state transitions', retry.transitions, `${each(retry)} each`],
    ['order-expiry executions', expiry.executions, `one per expiry minute (${num(s.expiry_buckets)} distinct)`],
    ['  state transitions', expiry.transitions, `${each(expiry)} each`],
    ['SQS SendMessage', sqs.SendMessage ?? 0, 'the relay, one per outbox event'],
    ['SQS ReceiveMessage with messages', busy, `the poller: ${perBusy} messages each on average`],
    ['SQS DeleteMessageBatch', sqs.DeleteMessageBatch ?? 0, 'the poller, after each handled batch'],
    ...Object.entries(sqs)
      .filter(([op]) => !standard.includes(op))
      .map(([op, count]): [string, number, string] => [`SQS ${op}`, count, '']),
    ['SQS ReceiveMessage, empty', s.sqs_empty_receives, 'idle poller (local: short poll + 100 ms pause): with time'],
    ...Object.entries(s.sfn_api_requests).map(([op, count]): [string, number, string] => [
      `Step Functions ${op}`,
      count,
      `not billed; ${num(s.sfn_started_executions)} executions (repeats: same name and input, idempotent)`,
    ]),
  ];
  const sampleTable = table(
    [`measured (${num(n)} payments)`, '>count', '>per payment', 'note'],
    sampleRows.map(([label, count, note]) => [label, num(count), num(count / n, 4), note]),
  );
  const lambdaRows = s.lambdas
    .filter((fn) => fn.invocations > 0)
    .map((fn) => [
      ...[fn.name, num(fn.invocations), num(fn.invocations / n, 4), num(fn.records / fn.invocations, 2)],
      ...[num(fn.mean_ms, 1), num(fn.max_ms, 1), num((fn.billed_ms / 1000) * GB, 3)],
      num((fn.billed_ms / 1000 / fn.invocations) * GB, 5),
    ]);
  const lambdaColumns = [`Lambda (arm64, ${PRICES.lambdaMemoryMb} MB), measured`, '>invocations', '>per payment'];
  const lambdaTable = table(
    [...lambdaColumns, '>records/inv', '>mean ms', '>max ms', '>billed GB-s', '>GB-s/inv'],
    lambdaRows,
  );
  // Per payment → per million payments → USD: the formulas of docs/cost-model.md with capacity.ts PRICES.
  const days = 1e6 / s.payments_per_day;
  const sfnUsd = (transitions: number) => ((1e6 * transitions) / 1000) * PRICES.sfnPer1000Transitions;
  const costRows: [string, number, number, number][] = [
    ...d.executions.map((e): [string, number, number, number] => [
      `${e.machine} executions (× ${num(e.transitions_each, 2)} transitions; ${e.basis})`,
      e.per_payment,
      1e6 * e.per_payment,
      sfnUsd(e.per_payment * e.transitions_each),
    ]),
    ['Step Functions state transitions', d.transitions, 1e6 * d.transitions, c.sfn],
    ['SQS requests (with payments)', d.sqs_requests, 1e6 * d.sqs_requests, c.sqs],
    [
      `SQS idle receives (${num(days)} days of 5 long-polling pollers)`,
      0,
      days * d.sqs_idle_receives_per_day,
      c.sqs_idle,
    ],
    ['Lambda invocations', d.lambda_invocations, 1e6 * d.lambda_invocations, c.lambda_requests],
    ['Lambda GB-s', d.lambda_gb_s, 1e6 * d.lambda_gb_s, c.lambda_duration],
    ['total, USD', 0, 0, c.this_design],
  ];
  const costTable = table(
    [`this design, ${num(s.payments_per_day)} payments a day`, '>per payment', '>per million', '>USD'],
    costRows.map(([label, per, million, dollars]) => [
      label,
      per ? num(per, 5) : '',
      million ? num(million) : '',
      usd(dollars),
    ]),
  );
  console.log(`\n${sampleTable}\n\n${lambdaTable}\n\n${costTable}\n`);
  console.log(
    indent(
      `Step Functions: ${num(100 * c.sfn_share_this_design, 1)} % of the total. USD at ${PRICES.label}. The naive design\n` +
        '(one execution per order and per notification) is priced from these per-payment figures in docs/cost-model.md.',
    ),
  );
}

// ---- the sample's own process ------------------------------------------------------------------------------------

type Progress = (phase: string) => void;

/** Runs the sample end to end; fails on anything not delivered exactly as the sample's merchant allowed. */
async function runSample(config: SampleConfig) {
  const began = performance.now();
  const progress = (phase: string) =>
    writeFileSync(config.progressFile, `+${((performance.now() - began) / 1000).toFixed(1)} s: ${phase}`);
  progress('starting the local runtime');
  let counting = false;
  const errors: unknown[] = [];
  const onError = (error: unknown) => errors.push(error);

  // Every SQS client in this process, the gateway's own included, is counted (prototype `send`).
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const sqsCalls: Record<string, number> = {};
  const sfnCalls: Record<string, number> = {};
  const started = new Set<string>();
  const receives = { empty: 0, messages: 0 };
  type Send = (command: object, ...rest: unknown[]) => Promise<{ Messages?: unknown[] }>;
  const prototype = SQSClient.prototype as unknown as { send: Send };
  const send = prototype.send;
  prototype.send = async function (this: unknown, command, ...rest) {
    const output = await send.call(this, command, ...rest);
    const operation = command.constructor.name.replace(/Command$/, '');
    if (counting) sqsCalls[operation] = (sqsCalls[operation] ?? 0) + 1;
    if (counting && operation === 'ReceiveMessage') {
      receives.messages += output?.Messages?.length ?? 0;
      if (!output?.Messages?.length) receives.empty++;
    }
    return output;
  };
  // Lambda invocations counted and timed; a throw or a batchItemFailures answer fails the sample.
  const meters = new Map<string, { name: string; records: number; durationsMs: number[] }>();
  const lambda = <H extends (event: never, context: never) => Promise<unknown>>(name: string, handler: H): H => {
    const meter = { name, records: 0, durationsMs: [] as number[] };
    meters.set(name, meter);
    return (async (event: never, context: never) => {
      const begun = performance.now();
      try {
        const response = await handler(event, context);
        const failed = (response as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures?.length;
        if (failed) onError(new Error(`${name}: ${failed} record(s) of the batch failed`));
        return response;
      } catch (error) {
        onError(error);
        throw error;
      } finally {
        const records = (event as { Records?: unknown[] } | undefined)?.Records;
        if (counting) meter.records += Array.isArray(records) ? records.length : 1;
        if (counting) meter.durationsMs.push(performance.now() - begun); // one per counted invocation
      }
    }) as H;
  };

  const spacingSeconds = 86_400 / config.paymentsPerDay;
  const simulatedSeconds = (config.payments - 1) * spacingSeconds;
  // The last bucket's timer fires at the end of the minute its payment expires in.
  const waitTimeScale = LONGEST_TIMER_WALL_MS / 1000 / (simulatedSeconds + EXPIRE_IN_SECONDS + 60);
  process.env.NOTIFY_RETRY_SCHEDULE = RETRY_SCHEDULE;
  const { startLocalSqs, createQueues } = await import('../local/sqs.ts');
  const { pollQueue } = await import('../local/sqs-poller.ts');
  const { pollTableStream } = await import('../local/stream-poller.ts');
  const { LocalStepFunctions, localStateMachineArn } = await import('../local/local-workflows.ts');
  const { SfnWorkflows } = await import('#adapters/aws/sfn-workflows.ts');
  const { setContainerOverrides } = await import('#adapters/container.ts');
  const { configureLocalEnvironment } = await import('../local/stack.ts');
  const { createGatewayTable } = await import('../local/tables.ts');
  const { STATE_MACHINES } = await import('#adapters/queue-definitions.ts');
  const handler = async (file: string) => (await import(`../functions/${file}.ts`)).handler;

  const stops: (() => Promise<unknown>)[] = [];
  try {
    const merchant = await sampleMerchant();
    stops.push(merchant.stop);
    const sqs = await startLocalSqs();
    stops.push(() => sqs.stop());
    const sfn = new LocalStepFunctions(
      [
        {
          ...STATE_MACHINES.notifyRetry,
          tasks: {
            NotifyAttemptFunctionArn: lambda('NotifyAttempt', await handler('notify-attempt')),
            NotifyFailedFunctionArn: lambda('NotifyFailed', await handler('notify-failed')),
          },
        },
        {
          ...STATE_MACHINES.orderExpiry,
          tasks: { ExpireBucketFunctionArn: lambda('ExpireBucket', await handler('expire-bucket')) },
        },
      ],
      waitTimeScale,
    );
    stops.push(() => sfn.stop());
    // The executions run in process: StartExecution calls are counted where the gateway makes them.
    const arns = { notifyRetry: STATE_MACHINES.notifyRetry.name, orderExpiry: STATE_MACHINES.orderExpiry.name };
    const workflows = new SfnWorkflows(
      { notifyRetry: localStateMachineArn(arns.notifyRetry), orderExpiry: localStateMachineArn(arns.orderExpiry) },
      async (arn, name, input) => {
        if (counting) sfnCalls.StartExecution = (sfnCalls.StartExecution ?? 0) + 1;
        if (counting) started.add(name);
        return sfn.start(arn, name, input);
      },
    );
    setContainerOverrides({ workflows });
    stops.push(async () => setContainerOverrides({}));
    const tableName = `pay-gateway-notify-sample-${randomBytes(4).toString('hex')}`;
    configureLocalEnvironment({
      dynamoEndpoint: config.dynamoEndpoint,
      publicBaseUrl: 'http://127.0.0.1:9', // no HTTP API here: only the unused sandbox pay URLs are built from it
      secrets: {
        masterKey: randomBytes(32).toString('base64'),
        sandboxSecret: `sbx_${randomBytes(24).toString('hex')}`,
      },
      tableName,
      sqsEndpoint: sqs.endpoint,
    });
    const dynamo = new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient({});
    await createGatewayTable(dynamo, tableName).finally(() => dynamo.destroy());
    const sqsClient = new SQSClient({});
    stops.push(async () => sqsClient.destroy());
    const queueUrls = await createQueues(sqsClient);
    // The event source mappings as the CDK stack configures them: batch sizes, and the relay's filter (inserts of
    // outbox events and of pending payments).
    const streamPoller = await pollTableStream({
      endpoint: config.dynamoEndpoint,
      tableName,
      handler: lambda('OutboxRelay', await handler('outbox-relay')),
      filter: ({ eventName, dynamodb }: DynamoDBRecord) => {
        const [entity, status] = [dynamodb?.NewImage?.entity?.S, dynamodb?.NewImage?.status?.S];
        return eventName === 'INSERT' && (entity === 'EVENT' || (entity === 'PAYMENT' && status === 'PENDING'));
      },
      ...{ batchSize: 100, functionName: 'OutboxRelay', onError },
    });
    stops.push(() => streamPoller.stop());
    const queuePoller = pollQueue({
      client: sqsClient,
      queueUrl: queueUrls.notifyQueueUrl,
      handler: lambda('Notify', await handler('notify')),
      ...{ batchSize: 10, functionName: 'Notify', onError },
    });
    stops.push(() => queuePoller.stop());
    await sleep(200); // the poller's one-off GetQueueAttributes, before counting starts

    counting = true;
    const t0 = performance.now();
    const created = await createPayments(config, merchant.base, spacingSeconds, progress);
    const createElapsedMs = performance.now() - t0;
    await until(errors, `all ${config.payments} notifications acknowledged by the merchant`, () => {
      progress(`${merchant.acknowledgedPaths()} of ${config.payments} notifications acknowledged`);
      return merchant.acknowledgedPaths() >= config.payments;
    });
    progress('waiting for the running executions (expiry timers, retries) to end');
    await sfn.idle();
    progress('verifying the events in the table');
    const { getContainer } = await import('#adapters/container.ts');
    const events = await until(errors, 'every event DELIVERED in the table', async () => {
      const stored = await storedEvents(getContainer().db, tableName);
      return stored.length >= config.payments && stored.every((e) => e.deliveryStatus === 'DELIVERED') && stored;
    });
    progress('stopping the pollers'); // lets the batch in hand finish, including its DeleteMessageBatch
    await queuePoller.stop();
    await streamPoller.stop();
    const elapsedMs = performance.now() - t0;
    counting = false;
    if (errors.length) throw new Error(`poller or handler failures: ${String(errors[0])}`);

    const verified = verifyEvents(events, created.paths, merchant.statuses);
    const executions = (machine: string, expected: number, what: string) => {
      const all = sfn.executions(machine);
      const transitions = new Set(all.map((e) => e.transitions));
      const succeeded = all.filter((e) => e.status === 'SUCCEEDED').length;
      if (all.length !== expected || succeeded !== expected || transitions.size > 1)
        throw new Error(
          `expected ${expected} SUCCEEDED ${machine} executions (${what}) all entering the same states, got ` +
            `${succeeded} of ${all.length} entering ${[...transitions].join('/')} states`,
        );
      return { executions: all.length, transitions: all.reduce((sum, e) => sum + e.transitions, 0), succeeded };
    };
    return {
      payments: config.payments,
      fail_every: config.failEvery,
      failing_first: created.failing,
      payments_per_day: config.paymentsPerDay,
      spacing_s: spacingSeconds,
      simulated_minutes: simulatedSeconds / 60,
      expiry_buckets: created.buckets.size,
      wait_time_scale: waitTimeScale,
      retry_schedule_s: RETRY_SCHEDULE,
      elapsed_ms: elapsedMs,
      create_elapsed_ms: createElapsedMs,
      verified: true,
      events: verified,
      merchant: merchant.counts(),
      notify_retry: executions(STATE_MACHINES.notifyRetry.name, created.failing, 'one per refused first delivery'),
      order_expiry: executions(STATE_MACHINES.orderExpiry.name, created.buckets.size, 'one per expiry minute'),
      sqs_requests: sqsCalls,
      sqs_empty_receives: receives.empty,
      sqs_received_messages: receives.messages,
      sfn_api_requests: sfnCalls,
      sfn_started_executions: started.size,
      lambdas: [...meters.values()].map((m) => ({
        name: m.name,
        invocations: m.durationsMs.length,
        records: m.records,
        mean_ms: m.durationsMs.length ? m.durationsMs.reduce((sum, d) => sum + d, 0) / m.durationsMs.length : 0,
        max_ms: Math.max(0, ...m.durationsMs),
        billed_ms: m.durationsMs.reduce((sum, d) => sum + Math.max(1, Math.ceil(d)), 0), // billed per started 1 ms
      })),
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/** A local merchant endpoint: `/ok/<n>` answers 204, `/fail-first/<n>` 503 to its first request and 204 after. */
async function sampleMerchant() {
  const statuses = new Map<string, number[]>();
  // The sample trusts the gateway's signing (the integration tests verify it): the body is drained, not read.
  const server = (await import('node:http')).createServer((req, res) =>
    req.resume().on('end', () => {
      const seen = statuses.get(req.url ?? '/') ?? [];
      const status = req.url?.startsWith('/fail-first/') && seen.length === 0 ? 503 : 204;
      statuses.set(req.url ?? '/', [...seen, status]);
      res.writeHead(status).end();
    }),
  );
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const all = () => [...statuses.values()];
  const answered = (status: number) =>
    all()
      .flat()
      .filter((s) => s === status).length;
  return {
    base: `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`,
    statuses,
    counts: () => ({ acknowledged: answered(204), refused: answered(503) }),
    acknowledgedPaths: () => all().filter((seen) => seen.includes(204)).length,
    stop: () => new Promise((done) => server.close(done).closeAllConnections()),
  };
}

/**
 * Creates and pays the sample's payments through the use cases, `spacingSeconds` of simulated time apart (the use
 * cases get a clock at that time), each with its own notify URL on the local merchant; 8 creators, one account each.
 */
async function createPayments(config: SampleConfig, merchantBase: string, spacing: number, progress: Progress) {
  const { getContainer } = await import('#adapters/container.ts');
  const { createMerchant } = await import('#app/merchant-admin.ts');
  const { createPayment } = await import('#app/create-payment.ts');
  const { applyPaymentResult } = await import('#app/apply-payment-result.ts');
  const { createPaymentSchema } = await import('#app/payment-schemas.ts');
  const { parseInput } = await import('#app/validation.ts');
  const { expiryBucket } = await import('#domain/expiry.ts');
  const container = getContainer();
  const sample = { id: 'mch_notify_sample', name: 'Notification sample merchant' };
  const { merchant } = await createMerchant(container, sample);
  const schema = createPaymentSchema({ allowLoopbackHttp: true });
  const firstArrival = Date.now();
  const created = { failing: 0, paths: new Map<string, boolean>(), buckets: new Set<string>() };
  await runPool(config.payments, 8, async (index, worker) => {
    const failsFirst = index % config.failEvery === config.failEvery - 1;
    const path = `${failsFirst ? '/fail-first/' : '/ok/'}${index}`;
    const arrival = firstArrival + Math.round(index * spacing * 1000);
    const fields = { order_no: `NS${index}`, amount: '10.00', subject: 'notification sample', channel: 'SANDBOX' };
    // One account per creator: concurrent credits to one wallet would only measure version conflicts.
    const body = parseInput(schema, {
      ...fields,
      account_id: `acct_notify_${worker}`,
      notify_url: merchantBase + path,
    });
    const { payment } = await createPayment({ ...container, clock: () => new Date(arrival) }, merchant, body);
    const { id: paymentId, amountMinor, currency } = payment;
    const result = {
      paymentId,
      status: 'SUCCEEDED' as const,
      amountMinor,
      currency,
      channelTradeNo: `sbx_ns_${index}`,
    };
    const paidAt = { ...container, clock: () => new Date(arrival + 20_000) }; // paid 20 simulated seconds later
    const paid = await applyPaymentResult(paidAt, result, 'SANDBOX');
    if (paid.payment.status !== 'SUCCEEDED') throw new Error(`payment ${payment.id} is ${paid.payment.status}`);
    created.paths.set(path, failsFirst);
    created.buckets.add(expiryBucket(payment.syncAt ?? payment.expiresAt)); // the minute its insert arms
    if (failsFirst) created.failing++;
    if (created.paths.size % 50 === 0)
      progress(`created and paid ${created.paths.size} of ${config.payments} payments`);
  });
  return created;
}

type StoredEvent = { id: string; type: string; notifyUrl?: string; deliveryStatus: string; attempts?: number };

/** Every outbox event in the sample's own table. */
async function storedEvents(db: import('@aws-sdk/lib-dynamodb').DynamoDBDocumentClient, tableName: string) {
  const { paginateScan } = await import('@aws-sdk/lib-dynamodb');
  const items: StoredEvent[] = [];
  const filter = { FilterExpression: '#e = :event', ExpressionAttributeNames: { '#e': 'entity' } };
  const input = { TableName: tableName, ...filter, ExpressionAttributeValues: { ':event': 'EVENT' } };
  for await (const page of paginateScan({ client: db }, { ...input, ConsistentRead: true }))
    items.push(...((page.Items ?? []) as StoredEvent[]));
  return items;
}

/** One `payment.succeeded` per payment, DELIVERED in one attempt, or in exactly two (503, 204) when refused first. */
function verifyEvents(events: StoredEvent[], paths: ReadonlyMap<string, boolean>, statuses: Map<string, number[]>) {
  if (events.length !== paths.size)
    throw new Error(`expected ${paths.size} events (one per payment), got ${events.length}`);
  for (const e of events) {
    const path = e.notifyUrl ? new URL(e.notifyUrl).pathname : '';
    const failsFirst = paths.get(path);
    const expected = failsFirst === undefined ? 'a known notify URL' : failsFirst ? '503,204' : '204';
    const seen = (statuses.get(path) ?? []).join();
    if (
      e.type !== 'payment.succeeded' ||
      e.deliveryStatus !== 'DELIVERED' ||
      seen !== expected ||
      e.attempts !== expected.split(',').length
    )
      throw new Error(
        `event ${e.id} (${e.type}, ${e.notifyUrl}) is ${e.deliveryStatus} after ${e.attempts} attempts, merchant answered [${seen}]; expected DELIVERED after [${expected}]`,
      );
  }
  const two = [...paths.values()].filter(Boolean).length;
  return { total: events.length, delivered: events.length, one_attempt: events.length - two, two_attempts: two };
}

/** Polls `check` every 100 ms until it returns a value, failing fast on a poller error and after 90 s. */
async function until<T>(errors: unknown[], what: string, check: () => T | false | Promise<T | false>): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (errors.length) throw new Error(`waiting for ${what}: ${String(errors[0])}`);
    const value = await check();
    if (value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after 90000 ms waiting for ${what}`);
    await sleep(100);
  }
}

if (process.argv[1] === import.meta.filename) {
  // Set before the gateway's modules load: Powertools reads its configuration when they are first imported.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  try {
    const config: SampleConfig = JSON.parse(process.env.BENCH_NOTIFY_CONFIG ?? '');
    writeFileSync(config.outFile, JSON.stringify(await runSample(config)));
  } catch (error) {
    console.error('notification sample failed:', error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  }
  setTimeout(() => process.exit(), 3000).unref(); // nothing should be left running; if something is, do not hang
}
