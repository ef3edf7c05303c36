/**
 * Section 6: payments through the REAL asynchronous path on the local runtime — outbox relay on the table stream,
 * notify consumer on the SQS queue, notify-retry and order-expiry from statemachines/*.asl.json with their task
 * handlers — counting every SQS request, Step Functions request and transition, and Lambda invocation; then the same
 * counts for the naive design (one execution per order and per notification), scaled, and priced with the one price
 * table (capacity.ts `PRICES`; formulas and assumptions in docs/cost-model.md).
 *
 * The sample runs in a process of its own (this file is its entry): the gateway's container is created once per
 * process from the environment, and the sample needs its own table, queues and state machines on a DynamoDB Local
 * started for it — after sections 1–4, DynamoDB Local's stream-enabled writes are several times slower.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DynamoDBRecord } from 'aws-lambda';
import { PRICES } from './capacity.ts';
import { runChild, runPool } from './flows.ts';
import { heading, indent, keyValues, num, table, wrap } from './report.ts';
import type { BenchOptions } from './run.ts';

/** What the parent asks the sample process to do (JSON in BENCH_NOTIFY_CONFIG). */
interface SampleConfig {
  projectRoot: string;
  dynamoEndpoint: string;
  payments: number;
  /** Assumed arrival rate: payments are created `86,400 / paymentsPerDay` simulated seconds apart. */
  paymentsPerDay: number;
  /** Every `failEvery`-th payment's merchant refuses the first delivery (503) and acknowledges the retry. */
  failEvery: number;
  outFile: string;
  progressFile: string;
}
type Sample = Awaited<ReturnType<typeof runSample>>;
type Usage = ReturnType<typeof thisDesign>;
type Totals = ReturnType<typeof totals>;

/** The longest expiry timer takes this long in wall time; the Wait-state scale follows from it. */
const LONGEST_TIMER_WALL_MS = 3000;
/** The API's default `expire_in_seconds`, which the sample's payments use. */
const EXPIRE_IN_SECONDS = 1800;
/** Short, so a delivery that keeps failing ends FAILED quickly (and the run fails loudly). */
const RETRY_SCHEDULE = '1,5,30';
const GB = PRICES.lambdaMemoryMb / 1024;
const SQS_IDLE_RECEIVES_PER_DAY = (PRICES.sqsIdlePollers * 86_400) / PRICES.sqsLongPollSeconds;
const SCALES = [10_000, 1_000_000] as const;

/** Runs the sample in its own process, derives the figures, prints section 6, returns BENCH_RESULT `notifications`. */
export async function measureNotifications(projectRoot: string, options: BenchOptions) {
  const started = performance.now();
  const { startDynamoDbLocal } = await import('../local/dynamodb-local.ts');
  const dynamo = await startDynamoDbLocal();
  const dir = mkdtempSync(join(tmpdir(), 'pay-gateway-notify-'));
  try {
    const config: SampleConfig = {
      projectRoot,
      dynamoEndpoint: dynamo.endpoint,
      payments: options.notifySample,
      paymentsPerDay: options.notifyPaymentsPerDay,
      failEvery: options.notifyFailEvery,
      outFile: join(dir, 'result.json'),
      progressFile: join(dir, 'progress.txt'),
    };
    await runChild({
      label: 'notification sample',
      script: import.meta.filename,
      cwd: projectRoot,
      env: { BENCH_NOTIFY_CONFIG: JSON.stringify(config) },
      timeoutMs: 180_000,
      where: () => readFileSync(config.progressFile, 'utf8'),
    });
    const sample: Sample = JSON.parse(readFileSync(config.outFile, 'utf8'));
    const figures = notificationFigures(projectRoot, sample, performance.now() - started);
    printNotificationSection(figures);
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dynamo.stop();
  }
}

interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: { Variable?: string; BooleanEquals?: boolean; Next: string }[];
  [field: string]: unknown;
}
type Asl = { StartAt: string; States: Record<string, AslState> };

/**
 * The states one execution enters when every Choice is decided by `data` (only `BooleanEquals` rules; anything else
 * fails rather than guesses). Standard workflows bill one transition per state entered.
 */
function aslPath(asl: Asl, data: Record<string, unknown>): string[] {
  const path: string[] = [];
  for (let name: string | undefined = asl.StartAt; name !== undefined; ) {
    const state: AslState | undefined = asl.States[name];
    if (!state || path.push(name) > 100) throw new Error(`ASL walk: no state ${name}, or a loop: ${path.join(' → ')}`);
    if (state.Type === 'Succeed' || state.Type === 'Fail' || state.End) break;
    const chosen: { Next: string } | undefined = state.Choices?.find(({ Variable, BooleanEquals }) => {
      const value = Variable?.slice(2)
        .split('.')
        .reduce<unknown>(
          (v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined),
          data,
        );
      if (!Variable?.startsWith('$.') || typeof value !== 'boolean' || BooleanEquals === undefined) {
        throw new Error(`ASL walk: choice ${name} has a rule the walk cannot evaluate (${Variable})`);
      }
      return value === BooleanEquals;
    });
    name = state.Type === 'Choice' ? (chosen?.Next ?? state.Default) : state.Next;
    if (name === undefined) throw new Error(`ASL walk: state ${path.at(-1)} leads nowhere`);
  }
  return path;
}

/** Per-payment usage of both designs from the sample (checked against the ASL walks), and their scaled totals. */
function notificationFigures(projectRoot: string, sample: Sample, sectionMs: number) {
  const readAsl = (file: string): Asl => JSON.parse(readFileSync(join(projectRoot, 'statemachines', file), 'utf8'));
  const retry = readAsl('notify-retry.asl.json');
  const expiry = readAsl('order-expiry.asl.json');
  // The naive notification workflow: the retry machine with the FIRST attempt moved into it.
  const attempt = Object.values(retry.States).find((state) => state.Type === 'Task');
  if (!attempt) throw new Error('notify-retry has no Task state to model the first attempt on');
  const naive: Asl = {
    StartAt: 'FirstAttempt',
    States: {
      FirstAttempt: { ...attempt, ResultPath: '$.first', Next: 'FirstDelivered?', End: undefined },
      'FirstDelivered?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.first.delivered', BooleanEquals: true, Next: 'DeliveredFirstTime' }],
        Default: retry.StartAt,
      },
      DeliveredFirstTime: { Type: 'Succeed' },
      ...retry.States,
    },
  };
  const paths: Paths = {
    retry_delivered_on_first_retry: aslPath(retry, { attempt: { delivered: true } }),
    expiry_one_page: aslPath(expiry, { result: { done: true } }),
    naive_notify_delivered: aslPath(naive, { first: { delivered: true } }),
    naive_notify_retried: aslPath(naive, { first: { delivered: false }, attempt: { delivered: true } }),
  };
  // The child checked each machine's executions all took the same number of transitions; it must be the walk's.
  for (const [machine, path] of [
    ['notify_retry', paths.retry_delivered_on_first_retry],
    ['order_expiry', paths.expiry_one_page],
  ] as const) {
    const measured = sample[machine];
    if (measured.executions && measured.transitions !== measured.executions * path.length) {
      throw new Error(`${machine}: measured executions do not enter the ${path.length} states ${path.join(' → ')}`);
    }
  }
  const bucketsPerDay = Math.min(1440, sample.payments_per_day);
  const design = thisDesign(sample, paths, bucketsPerDay);
  const naiveDesign = naiveUsage(sample, paths);
  const scaled = SCALES.map((payments) => ({
    payments,
    this_design: totals(design, payments, sample.payments_per_day),
    naive: totals(naiveDesign, payments, sample.payments_per_day),
  }));
  const million = scaled.find((s) => s.payments === 1_000_000) as (typeof scaled)[number];
  const [a, b] = [million.this_design.cost_usd, million.naive.cost_usd];
  return {
    sample: { ...sample, section_ms: sectionMs },
    asl_paths: paths,
    expiry_buckets_per_day: bucketsPerDay,
    per_payment: { this_design: design, naive: naiveDesign },
    scaled,
    cost_per_million_usd: {
      this_design: a.total,
      naive: b.total,
      ratio_naive_to_this: b.total / a.total,
      sfn_share_this_design: a.sfn / a.total,
      sfn_share_naive: b.sfn / b.total,
      unbatched_bound: unbatchedBound(sample, million),
    },
    prices: {
      label: PRICES.label,
      sfn_standard_per_1000_transitions: PRICES.sfnPer1000Transitions,
      sqs_per_million_requests: PRICES.sqsPerMillionRequests,
      lambda_per_million_requests: PRICES.lambdaPerMillionRequests,
      lambda_arm_per_gb_s: PRICES.lambdaArmPerGbSecond,
      lambda_memory_mb: PRICES.lambdaMemoryMb,
      sqs_idle_receives_per_day: SQS_IDLE_RECEIVES_PER_DAY,
    },
  };
}
type Figures = ReturnType<typeof notificationFigures>;
type Paths = Record<
  'retry_delivered_on_first_retry' | 'expiry_one_page' | 'naive_notify_delivered' | 'naive_notify_retried',
  string[]
>;

const lambdaOf = (sample: Sample, name: string) =>
  sample.lambdas.find((fn) => fn.name === name) ?? {
    name,
    invocations: 0,
    records: 0,
    mean_ms: 0,
    max_ms: 0,
    billed_ms: 0,
  };
const gbSecondsEach = (fn: Sample['lambdas'][number]) =>
  fn.invocations ? (fn.billed_ms / fn.invocations / 1000) * GB : 0;

/**
 * This design per payment: measured retry executions, SQS requests (idle receives excluded: they scale with time) and
 * Lambda work; expiry executions follow from the arrival rate (one per minute that has an order), each as measured.
 */
function thisDesign(sample: Sample, paths: Paths, bucketsPerDay: number) {
  const n = sample.payments;
  const expiryPerPayment = bucketsPerDay / sample.payments_per_day;
  const expire = lambdaOf(sample, 'ExpireBucket');
  const expireInvocations = expiryPerPayment * (expire.invocations / sample.order_expiry.executions);
  const sqsTotal = Object.values(sample.sqs_requests).reduce((sum, count) => sum + count, 0);
  const { notify_retry: retry, order_expiry: expiry } = sample;
  return {
    executions: [
      {
        machine: 'notify-retry',
        per_payment: retry.executions / n,
        transitions_each: retry.executions
          ? retry.transitions / retry.executions
          : paths.retry_delivered_on_first_retry.length,
        basis: 'measured: one per refused first delivery',
      },
      {
        machine: 'order-expiry',
        per_payment: expiryPerPayment,
        transitions_each: expiry.transitions / expiry.executions,
        basis: `${num(bucketsPerDay)} minute buckets a day ÷ ${num(sample.payments_per_day)} payments a day`,
      },
    ],
    sqs_requests: (sqsTotal - sample.sqs_empty_receives) / n,
    sqs_idle_receives_per_day: SQS_IDLE_RECEIVES_PER_DAY,
    lambdas: [
      ...sample.lambdas
        .filter((fn) => fn.name !== 'ExpireBucket' && fn.invocations > 0)
        .map((fn) => ({
          name: fn.name,
          invocations: fn.invocations / n,
          gb_s: (fn.billed_ms / 1000 / n) * GB,
          basis: 'measured',
        })),
      {
        name: 'ExpireBucket',
        invocations: expireInvocations,
        gb_s: expireInvocations * gbSecondsEach(expire),
        basis: 'measured per execution × executions',
      },
    ],
  };
}

/**
 * The naive design per payment: one order-expiry execution per order (one page) and one notification execution per
 * event with the sample's refused-first share; no queue (the relay starts executions), each function at the
 * duration measured here.
 */
function naiveUsage(sample: Sample, paths: Paths): Usage {
  const n = sample.payments;
  const notifications = sample.events.total / n;
  const refused = sample.failing_first / sample.events.total;
  const relay = lambdaOf(sample, 'OutboxRelay');
  const attempt = lambdaOf(sample, 'NotifyAttempt');
  const notify = lambdaOf(sample, 'Notify');
  // One delivery attempt: the retry task's billed duration, or the queue consumer's per message without retries.
  const attemptGbS = attempt.invocations
    ? gbSecondsEach(attempt)
    : (notify.billed_ms / Math.max(1, notify.records) / 1000) * GB;
  const attempts = notifications * (1 + refused);
  const [delivered, retried] = [paths.naive_notify_delivered.length, paths.naive_notify_retried.length];
  return {
    executions: [
      {
        machine: 'notify (per notification)',
        per_payment: notifications,
        transitions_each: (1 - refused) * delivered + refused * retried,
        basis: `ASL walk: ${delivered} delivered first, ${retried} with one retry`,
      },
      {
        machine: 'order-expiry (per order)',
        per_payment: 1,
        transitions_each: paths.expiry_one_page.length,
        basis: `ASL walk: ${paths.expiry_one_page.join(' → ')}`,
      },
    ],
    sqs_requests: 0,
    sqs_idle_receives_per_day: 0,
    lambdas: [
      {
        name: 'OutboxRelay',
        invocations: relay.invocations / n,
        gb_s: (relay.billed_ms / 1000 / n) * GB,
        basis: 'as measured here',
      },
      {
        name: 'NotifyAttempt',
        invocations: attempts,
        gb_s: attempts * attemptGbS,
        basis: 'one per attempt, measured duration',
      },
      {
        name: 'ExpireBucket',
        invocations: 1,
        gb_s: gbSecondsEach(lambdaOf(sample, 'ExpireBucket')),
        basis: 'one per order, measured duration',
      },
    ],
  };
}

/** A design's counts and cost for `payments` payments arriving at `perDay` (the formulas of docs/cost-model.md). */
function totals(usage: Usage, payments: number, perDay: number) {
  const days = payments / perDay;
  const executions = payments * usage.executions.reduce((sum, e) => sum + e.per_payment, 0);
  const transitions = payments * usage.executions.reduce((sum, e) => sum + e.per_payment * e.transitions_each, 0);
  const sqsRequests = payments * usage.sqs_requests;
  const idle = days * usage.sqs_idle_receives_per_day;
  const invocations = payments * usage.lambdas.reduce((sum, fn) => sum + fn.invocations, 0);
  const gbSeconds = payments * usage.lambdas.reduce((sum, fn) => sum + fn.gb_s, 0);
  const cost = {
    sfn: (transitions / 1000) * PRICES.sfnPer1000Transitions,
    sqs: (sqsRequests / 1e6) * PRICES.sqsPerMillionRequests,
    sqs_idle: (idle / 1e6) * PRICES.sqsPerMillionRequests,
    lambda_requests: (invocations / 1e6) * PRICES.lambdaPerMillionRequests,
    lambda_duration: gbSeconds * PRICES.lambdaArmPerGbSecond,
  };
  const total = Object.values(cost).reduce((sum, value) => sum + value, 0);
  return {
    payments,
    days,
    sfn_executions: executions,
    sfn_transitions: transitions,
    sqs_requests: sqsRequests,
    sqs_idle_receives: idle,
    lambda_invocations: invocations,
    lambda_gb_s: gbSeconds,
    cost_usd: { ...cost, total },
  };
}

/**
 * Per million payments if nothing were batched: one relay invocation per record, one notify invocation per message,
 * a receive and a delete per message — the most the measured batches save.
 */
function unbatchedBound(sample: Sample, million: { this_design: Totals; naive: Totals }) {
  const n = sample.payments;
  const extra = (name: string) => {
    const fn = lambdaOf(sample, name);
    return ((fn.records - fn.invocations) / n) * PRICES.lambdaPerMillionRequests;
  };
  const sqsBound = 3 * ((sample.sqs_requests.SendMessage ?? 0) / n) * PRICES.sqsPerMillionRequests;
  const design = million.this_design.cost_usd;
  return {
    this_design: design.total - design.sqs + sqsBound + extra('OutboxRelay') + extra('Notify'),
    naive: million.naive.cost_usd.total + extra('OutboxRelay'),
  };
}

const usd = (value: number) =>
  value === 0 ? '$0.00' : value < 0.01 ? `$${value.toPrecision(2)}` : `$${num(value, 2)}`;
const ratio = (a: number, b: number) => (a > 0 && b > 0 ? `${num(a / b, 1)}×` : '');
const days = (value: number) => {
  const text = num(value, value < 10 && !Number.isInteger(value) ? 1 : 0);
  return `${text} ${text === '1' ? 'day' : 'days'}`;
};
const ordinal = (n: number) =>
  `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] ?? 'th')}`;
const right = (header: string) => ({ header, align: 'right' as const });

/** Prints section 6. */
function printNotificationSection(f: Figures): void {
  const s = f.sample;
  const n = s.payments;
  const paths = f.asl_paths;
  console.log(heading('6. Notifications and expiry timers: Step Functions, SQS and Lambda cost vs the naive design'));
  console.log(
    indent(
      `measured on the local runtime, then scaled: ${num(n)} payments (BENCH_NOTIFY_SAMPLE) through the real handlers —\n` +
        'outbox relay on the table stream (batch 100, the CDK filter), notify on the SQS queue (batch 10), notify-retry\n' +
        'and order-expiry from statemachines/*.asl.json with their task handlers, all in a process of their own',
    ),
  );
  console.log('');
  const longestTimerMin = s.simulated_minutes + EXPIRE_IN_SECONDS / 60 + 1;
  const pairs: [string, string][] = [
    [
      'arrivals',
      `${num(s.payments_per_day)} payments/day assumed (BENCH_NOTIFY_PER_DAY), evenly: one every ${num(s.spacing_s, 2)} s ` +
        `of simulated time, so the sample spans ${num(s.simulated_minutes, 1)} minutes; each paid 20 s after creation, ` +
        `expiring ${num(EXPIRE_IN_SECONDS / 60)} min after it`,
    ],
    [
      'merchant',
      `${s.fail_every === 1 ? 'every' : `every ${ordinal(s.fail_every)}`} payment's endpoint (BENCH_NOTIFY_FAIL_EVERY) ` +
        `answers 503 to the first delivery, 204 to everything else: ${num(s.failing_first)} of ${num(n)} ` +
        `(${num((100 * s.failing_first) / n, 1)} %) need exactly one retry`,
    ],
    [
      'time',
      `Wait states ×${s.wait_time_scale.toPrecision(3)} (the longest timer, ${num(longestTimerMin, 1)} min, takes 3 s); ` +
        `NOTIFY_RETRY_SCHEDULE ${s.retry_schedule_s} s`,
    ],
    [
      'verified',
      `${num(s.events.delivered)}/${num(s.events.total)} events DELIVERED (${num(s.events.one_attempt)} in 1 attempt, ` +
        `${num(s.events.two_attempts)} in 2: 503 then 204); ${num(s.notify_retry.executions)} notify-retry and ` +
        `${num(s.order_expiry.executions)} order-expiry executions, all SUCCEEDED`,
    ],
    [
      'wall time',
      `${num(s.elapsed_ms / 1000, 1)} s from the first payment to the last delete (creating them: ` +
        `${num(s.create_elapsed_ms / 1000, 1)} s); section ${num(s.section_ms / 1000, 1)} s`,
    ],
  ];
  console.log(`${keyValues(pairs, 118)}\n`);

  const sqs = s.sqs_requests;
  const busyReceives = (sqs.ReceiveMessage ?? 0) - s.sqs_empty_receives;
  const row = (label: string, count: number, note: string) => [label, num(count), num(count / n, 4), note];
  const sampleRows = [
    row('notify-retry executions', s.notify_retry.executions, 'one per refused first delivery'),
    row(
      '  state transitions',
      s.notify_retry.transitions,
      `${paths.retry_delivered_on_first_retry.length} each: ${paths.retry_delivered_on_first_retry.join(' → ')}`,
    ),
    row(
      'order-expiry executions',
      s.order_expiry.executions,
      `one per expiry minute (${num(s.expiry_buckets)} distinct)`,
    ),
    row(
      '  state transitions',
      s.order_expiry.transitions,
      `${paths.expiry_one_page.length} each: ${paths.expiry_one_page.join(' → ')}`,
    ),
    row('SQS SendMessage', sqs.SendMessage ?? 0, 'the relay, one per outbox event'),
    row(
      'SQS ReceiveMessage with messages',
      busyReceives,
      `the poller: ${num(s.sqs_received_messages / Math.max(1, busyReceives), 2)} messages each on average`,
    ),
    row('SQS DeleteMessageBatch', sqs.DeleteMessageBatch ?? 0, 'the poller, after each handled batch'),
    ...Object.entries(sqs)
      .filter(([op]) => !['SendMessage', 'ReceiveMessage', 'DeleteMessageBatch'].includes(op))
      .map(([op, count]) => row(`SQS ${op}`, count, '')),
    row(
      'SQS ReceiveMessage, empty',
      s.sqs_empty_receives,
      'idle poller (local: short poll + 100 ms pause): scales with time, priced separately',
    ),
    ...Object.entries(s.sfn_api_requests).map(([op, count]) =>
      row(
        `Step Functions ${op}`,
        count,
        op === 'StartExecution'
          ? `not billed; for ${num(s.sfn_started_executions)} executions (repeats: same name and input, idempotent)`
          : 'not billed (Standard bills transitions)',
      ),
    ),
  ];
  const sampleColumns = [
    { header: `measured in the sample (${num(n)} payments)` },
    right('count'),
    right('per payment'),
    { header: 'note' },
  ];
  console.log(`${indent(table(sampleColumns, sampleRows))}\n`);

  const lambdaRows = s.lambdas
    .filter((fn) => fn.invocations > 0)
    .map((fn) => [
      fn.name,
      num(fn.invocations),
      num(fn.invocations / n, 4),
      num(fn.invocations ? fn.records / fn.invocations : 0, 2),
      num(fn.mean_ms, 1),
      num(fn.max_ms, 1),
      num((fn.billed_ms / 1000) * GB, 3),
    ]);
  const lambdaColumns = [
    { header: `Lambda (arm64, ${PRICES.lambdaMemoryMb} MB), measured` },
    ...['invocations', 'per payment', 'records/inv', 'mean ms', 'max ms', 'billed GB-s'].map(right),
  ];
  console.log(`${indent(table(lambdaColumns, lambdaRows))}\n`);

  const usageRows = (['this design', 'naive design'] as const).flatMap((name) => {
    const u = name === 'this design' ? f.per_payment.this_design : f.per_payment.naive;
    return [
      ...u.executions.map((e) => [
        name,
        `${e.machine} executions`,
        num(e.per_payment, 4),
        `× ${num(e.transitions_each, 2)} transitions (${e.basis})`,
      ]),
      [name, 'SQS requests', num(u.sqs_requests, 4), u.sqs_requests ? 'measured' : 'no queue'],
      ...u.lambdas.map((fn) => [
        name,
        `${fn.name} invocations`,
        num(fn.invocations, 4),
        `${num(fn.gb_s, 5)} GB-s (${fn.basis})`,
      ]),
    ];
  });
  const usageColumns = [{ header: 'per payment' }, { header: 'what' }, right('count'), { header: 'basis' }];
  console.log(`${indent(table(usageColumns, usageRows))}\n`);

  // One table for the scaled counts and their cost; the last column compares the designs at the largest scale.
  const largest = f.scaled.at(-1);
  const scaledRow = (label: string, pick: (t: Totals) => number, format = (value: number) => num(value)) => [
    label,
    ...f.scaled.flatMap((x) => [format(pick(x.this_design)), format(pick(x.naive))]),
    largest ? ratio(pick(largest.naive), pick(largest.this_design)) : '',
  ];
  const share = (t: Totals) => (t.cost_usd.total > 0 ? `${num((100 * t.cost_usd.sfn) / t.cost_usd.total, 1)} %` : '');
  const scaledColumns = [
    { header: 'payments' },
    ...f.scaled.flatMap((x) => [right(`${num(x.payments)}: this design`), right('naive')]),
    right('naive ÷ this'),
  ];
  const scaledRows = [
    scaledRow('Step Functions executions', (t) => t.sfn_executions),
    scaledRow('  state transitions', (t) => t.sfn_transitions),
    scaledRow('SQS requests (with payments)', (t) => t.sqs_requests),
    scaledRow('SQS idle receives (with time)', (t) => t.sqs_idle_receives),
    scaledRow('Lambda invocations', (t) => t.lambda_invocations),
    scaledRow(
      'Lambda GB-s',
      (t) => t.lambda_gb_s,
      (v) => num(v, 1),
    ),
    scaledRow(
      `Step Functions Standard, $${PRICES.sfnPer1000Transitions} / 1,000 transitions`,
      (t) => t.cost_usd.sfn,
      usd,
    ),
    scaledRow(`SQS requests, $${PRICES.sqsPerMillionRequests.toFixed(2)} / million`, (t) => t.cost_usd.sqs, usd),
    scaledRow('SQS idle polling', (t) => t.cost_usd.sqs_idle, usd),
    scaledRow(
      `Lambda requests, $${PRICES.lambdaPerMillionRequests.toFixed(2)} / million`,
      (t) => t.cost_usd.lambda_requests,
      usd,
    ),
    scaledRow(`Lambda duration, arm64 $${PRICES.lambdaArmPerGbSecond} / GB-s`, (t) => t.cost_usd.lambda_duration, usd),
    scaledRow('cost, USD', (t) => t.cost_usd.total, usd),
    ['Step Functions share of the total', ...f.scaled.flatMap((x) => [share(x.this_design), share(x.naive)]), ''],
  ];
  console.log(
    indent(
      `scaled to ${f.scaled.map((x) => num(x.payments)).join(' and ')} payments at ${num(s.payments_per_day)} a day ` +
        `(${f.scaled.map((x) => days(x.this_design.days)).join(', ')}); USD at ${PRICES.label} (docs/cost-model.md):\n` +
        table(scaledColumns, scaledRows),
    ),
  );
  if (!largest) return;
  const a = largest.this_design.cost_usd;
  const bound = f.cost_per_million_usd.unbatched_bound;
  const attempts = 1 + s.failing_first / s.events.total;
  const notes = [
    'Assumptions (docs/cost-model.md gives each formula and why):',
    `- expiry: min(1,440, payments a day) = ${num(f.expiry_buckets_per_day)} executions a day; the sample had ` +
      `${num(s.order_expiry.executions / n, 4)} per payment vs ${num(f.expiry_buckets_per_day / s.payments_per_day, 4)} ` +
      '(partial minutes at its edges); each extra page of 100 pending orders adds 3 transitions.',
    `- SQS idle polling: ${PRICES.sqsIdlePollers} pollers × one ${PRICES.sqsLongPollSeconds} s long poll = ` +
      `${num(SQS_IDLE_RECEIVES_PER_DAY)} empty receives a day = ` +
      `${usd((SQS_IDLE_RECEIVES_PER_DAY * 30 * PRICES.sqsPerMillionRequests) / 1e6)} a month whatever the traffic; the ` +
      `local poller's ${num(s.sqs_empty_receives)} only measure this run's length.`,
    `- batching: ${num(s.simulated_minutes, 0)} simulated minutes created in ${num(s.create_elapsed_ms / 1000, 1)} s, so ` +
      `batches hold several records. Unbatched bound per million: this design ${usd(bound.this_design)}, naive ` +
      `${usd(bound.naive)}, naive ÷ this ${ratio(bound.naive, bound.this_design)}.`,
    `- each 100 ms a real merchant takes to answer adds ${usd(1e6 * attempts * 0.1 * GB * PRICES.lambdaArmPerGbSecond)} ` +
      `per million payments to BOTH designs (${num(attempts, 2)} attempts per payment); not included: DynamoDB, ` +
      `CloudWatch, data transfer. Step Functions: this design ${usd(a.sfn)} of ${usd(a.total)} per million.`,
  ];
  console.log(`\n${indent(notes.map((note) => wrap(note, 116, '  ')).join('\n'))}`);
}

// ---- the sample's own process ------------------------------------------------------------------------------------

/** One Lambda function's invocations, as counted by {@link runSample}. */
interface FunctionMeter {
  name: string;
  invocations: number;
  records: number;
  durationsMs: number[];
}

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
  for (const [client, calls] of [[SQSClient, sqsCalls]] as const) {
    type Send = (command: { input?: { name?: unknown } }, ...rest: unknown[]) => Promise<{ Messages?: unknown[] }>;
    const prototype = client.prototype as unknown as { send: Send };
    const send = prototype.send;
    prototype.send = async function (this: unknown, command, ...rest) {
      const output = await send.call(this, command, ...rest);
      const operation = command.constructor.name.replace(/Command$/, '');
      if (counting) {
        calls[operation] = (calls[operation] ?? 0) + 1;
        if (operation === 'ReceiveMessage') {
          receives.messages += output?.Messages?.length ?? 0;
          if (!output?.Messages?.length) receives.empty++;
        }
      }
      return output;
    };
  }
  // Lambda invocations counted and timed; a throw or a batchItemFailures answer fails the sample.
  const meters = new Map<string, FunctionMeter>();
  const lambda = <H extends (event: never, context: never) => Promise<unknown>>(name: string, handler: H): H => {
    const meter: FunctionMeter = { name, invocations: 0, records: 0, durationsMs: [] };
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
        if (counting) {
          const records = (event as { Records?: unknown[] } | undefined)?.Records;
          meter.invocations++;
          meter.records += Array.isArray(records) ? records.length : 1;
          meter.durationsMs.push(performance.now() - begun);
        }
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
    const workflows = new SfnWorkflows(
      {
        notifyRetry: localStateMachineArn(STATE_MACHINES.notifyRetry.name),
        orderExpiry: localStateMachineArn(STATE_MACHINES.orderExpiry.name),
      },
      async (arn, name, input) => {
        if (counting) {
          sfnCalls.StartExecution = (sfnCalls.StartExecution ?? 0) + 1;
          started.add(name);
        }
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
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const dynamo = new DynamoDBClient({});
    await createGatewayTable(dynamo, tableName);
    dynamo.destroy();
    const sqsClient = new SQSClient({});
    stops.push(async () => sqsClient.destroy());
    const queueUrls = await createQueues(sqsClient);
    // The event source mappings as the CDK stack configures them: batch sizes, and the relay's filter (inserts of
    // outbox events and of pending payments).
    const streamPoller = await pollTableStream({
      endpoint: config.dynamoEndpoint,
      tableName,
      handler: lambda('OutboxRelay', await handler('outbox-relay')),
      filter: (record: DynamoDBRecord) => {
        const image = record.dynamodb?.NewImage;
        const entity = image?.entity?.S;
        return (
          record.eventName === 'INSERT' &&
          (entity === 'EVENT' || (entity === 'PAYMENT' && image?.status?.S === 'PENDING'))
        );
      },
      batchSize: 100,
      functionName: 'OutboxRelay',
      onError,
    });
    stops.push(() => streamPoller.stop());
    const queuePoller = pollQueue({
      client: sqsClient,
      queueUrl: queueUrls.notifyQueueUrl,
      handler: lambda('Notify', await handler('notify')),
      batchSize: 10,
      functionName: 'Notify',
      onError,
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
      if (all.length !== expected || succeeded !== expected || transitions.size > 1) {
        throw new Error(
          `expected ${expected} SUCCEEDED ${machine} executions (${what}) all entering the same states, got ` +
            `${succeeded} of ${all.length} entering ${[...transitions].join('/')} states`,
        );
      }
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
        invocations: m.invocations,
        records: m.records,
        mean_ms: m.invocations ? m.durationsMs.reduce((sum, d) => sum + d, 0) / m.invocations : 0,
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
  const { createServer } = await import('node:http');
  const statuses = new Map<string, number[]>();
  const server = createServer((req, res) => {
    req.resume(); // the sample trusts the gateway's signing (the integration tests verify it)
    req.on('end', () => {
      const seen = statuses.get(req.url ?? '/') ?? [];
      const status = req.url?.startsWith('/fail-first/') && seen.length === 0 ? 503 : 204;
      statuses.set(req.url ?? '/', [...seen, status]);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as import('node:net').AddressInfo;
  const answered = (status: number) => [...statuses.values()].flat().filter((s) => s === status).length;
  return {
    base: `http://127.0.0.1:${port}`,
    statuses,
    counts: () => ({ acknowledged: answered(204), refused: answered(503) }),
    acknowledgedPaths: () => [...statuses.values()].filter((seen) => seen.includes(204)).length,
    stop: () => {
      server.closeAllConnections();
      return new Promise((done) => server.close(done));
    },
  };
}

/**
 * Creates and pays the sample's payments through the use cases, `spacingSeconds` of simulated time apart (the use
 * cases get a clock at that time), each with its own notify URL on the local merchant; 8 creators, one account each.
 */
async function createPayments(
  config: SampleConfig,
  merchantBase: string,
  spacingSeconds: number,
  progress: (phase: string) => void,
) {
  const { getContainer } = await import('#adapters/container.ts');
  const { createMerchant } = await import('#app/merchant-admin.ts');
  const { createPayment } = await import('#app/create-payment.ts');
  const { applyPaymentResult } = await import('#app/apply-payment-result.ts');
  const { createPaymentSchema } = await import('#app/payment-schemas.ts');
  const { parseInput } = await import('#app/validation.ts');
  const { expiryBucket } = await import('#domain/expiry.ts');
  const container = getContainer();
  const { merchant } = await createMerchant(container, {
    id: 'mch_notify_sample',
    name: 'Notification sample merchant',
  });
  const schema = createPaymentSchema({ allowLoopbackHttp: true });
  const firstArrival = Date.now();
  const created = { failing: 0, paths: new Map<string, boolean>(), buckets: new Set<string>() };
  await runPool(config.payments, 8, async (index, worker) => {
    const failsFirst = index % config.failEvery === config.failEvery - 1;
    const path = `${failsFirst ? '/fail-first/' : '/ok/'}${index}`;
    const arrival = firstArrival + Math.round(index * spacingSeconds * 1000);
    const body = parseInput(schema, {
      order_no: `NS${index}`,
      amount: '10.00',
      subject: 'notification sample',
      channel: 'SANDBOX',
      account_id: `acct_notify_${worker}`, // concurrent credits to one wallet would only measure version conflicts
      notify_url: `${merchantBase}${path}`,
    });
    const { payment } = await createPayment({ ...container, clock: () => new Date(arrival) }, merchant, body);
    const paid = await applyPaymentResult(
      { ...container, clock: () => new Date(arrival + 20_000) }, // paid 20 simulated seconds later
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
    if (failsFirst) created.failing++;
    if (created.paths.size % 50 === 0)
      progress(`created and paid ${created.paths.size} of ${config.payments} payments`);
  });
  return created;
}

type StoredEvent = { id: string; type: string; notifyUrl?: string; deliveryStatus: string; attempts?: number };

/** Every outbox event in the sample's own table. */
async function storedEvents(db: import('@aws-sdk/lib-dynamodb').DynamoDBDocumentClient, tableName: string) {
  const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  const items: StoredEvent[] = [];
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
    items.push(...((page.Items ?? []) as StoredEvent[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** One `payment.succeeded` per payment, DELIVERED in one attempt, or in exactly two (503, 204) when refused first. */
function verifyEvents(
  events: StoredEvent[],
  paths: ReadonlyMap<string, boolean>,
  statuses: ReadonlyMap<string, number[]>,
) {
  if (events.length !== paths.size)
    throw new Error(`expected ${paths.size} events (one per payment), found ${events.length}`);
  let twoAttempts = 0;
  for (const event of events) {
    const path = event.notifyUrl ? new URL(event.notifyUrl).pathname : '';
    const failsFirst = paths.get(path);
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
    if (failsFirst) twoAttempts++;
  }
  return {
    total: events.length,
    delivered: events.length,
    one_attempt: events.length - twoAttempts,
    two_attempts: twoAttempts,
  };
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
