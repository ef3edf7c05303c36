import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type AslDefinition, aslPath, readAsl } from './asl-path.ts';
import { LAMBDA_MEMORY_GB, PRICES, SQS_IDLE_RECEIVES_PER_DAY } from './aws-prices.ts';
import { runChildSample } from './child-sample.ts';
import type { FunctionSummary, NotifySampleConfig, NotifySampleResult } from './notify-sample.ts';
import type { BenchOptions } from './options.ts';

const NOTIFY_RETRY_ASL = 'statemachines/notify-retry.asl.json';
const ORDER_EXPIRY_ASL = 'statemachines/order-expiry.asl.json';
const MINUTES_PER_DAY = 1440;
/** The sample process is killed if it runs longer than this. */
const SAMPLE_TIMEOUT_MS = 180_000;
/** Payment counts the figures are scaled to. */
export const SCALES = [10_000, 1_000_000] as const;

/** The states one execution enters on each path the comparison uses, from the shared ASL files. */
export interface AslPaths {
  /** notify-retry, delivered on its first retry (what each refused first delivery costs here). */
  retryDeliveredFirstRetry: string[];
  /** order-expiry, one page (a bucket of at most 100 pending orders, or one order in the naive design). */
  expiryOnePage: string[];
  /** The naive notification execution when the first attempt is acknowledged. */
  naiveNotifyDelivered: string[];
  /** The naive notification execution when the first attempt is refused and the first retry acknowledged. */
  naiveNotifyRetried: string[];
}

/** Usage of one design per payment: what scales with payments (plus SQS idle polling, which scales with time). */
export interface DesignUsage {
  name: string;
  /** Step Functions executions per payment and the transitions each takes. */
  executions: { machine: string; perPayment: number; transitionsEach: number; basis: string }[];
  /** SQS requests per payment (idle polling excluded). */
  sqsRequests: number;
  /** Empty ReceiveMessage calls per day of an idle event source mapping (0 without a queue). */
  sqsIdleReceivesPerDay: number;
  /** Lambda invocations and billed GB-seconds per payment, by function. */
  lambdas: { name: string; invocations: number; gbSeconds: number; basis: string }[];
}

/** One design at one scale: counts and dollars. */
export interface DesignTotals {
  payments: number;
  days: number;
  executions: number;
  transitions: number;
  sqsRequests: number;
  sqsIdleReceives: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  cost: { sfn: number; sqs: number; sqsIdle: number; lambdaRequests: number; lambdaDuration: number; total: number };
}

/** Everything section 6 prints and reports. */
export interface NotificationFigures {
  sample: NotifySampleResult;
  /** Wall time of the whole section, the sample process included. */
  wallMs: number;
  paths: AslPaths;
  /** Expiry executions per day at the assumed rate. */
  bucketsPerDay: number;
  design: DesignUsage;
  naive: DesignUsage;
  scaled: { payments: number; design: DesignTotals; naive: DesignTotals }[];
}

/**
 * Runs the sample in its own process against `dynamoEndpoint` (the bench's DynamoDB Local) and derives the figures.
 * Fails if the sample does, or if the executions it measured disagree with the ASL walks the naive figures rest on.
 */
export async function measureNotificationCost(
  projectRoot: string,
  options: BenchOptions,
  dynamoEndpoint: string,
): Promise<NotificationFigures> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'pay-gateway-notify-'));
  try {
    const config: NotifySampleConfig = {
      projectRoot,
      dynamoEndpoint,
      payments: options.notifySample,
      paymentsPerDay: options.notifyPaymentsPerDay,
      failEvery: options.notifyFailEvery,
      concurrency: 8,
      outFile: join(dir, 'result.json'),
      progressFile: join(dir, 'progress.txt'),
    };
    await runSampleProcess(projectRoot, config);
    const sample = JSON.parse(readFileSync(config.outFile, 'utf8')) as NotifySampleResult;
    return notificationFigures(projectRoot, sample, performance.now() - started);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sample in a child process (its own gateway container, configured for its own table, queues and workflows). */
function runSampleProcess(projectRoot: string, config: NotifySampleConfig): Promise<void> {
  return runChildSample({
    label: 'notification sample',
    script: join(projectRoot, 'bench/notify-sample-main.ts'),
    cwd: projectRoot,
    env: { BENCH_NOTIFY_CONFIG: JSON.stringify(config) },
    timeoutMs: SAMPLE_TIMEOUT_MS,
    onTimeout: () => {
      try {
        return `at ${readFileSync(config.progressFile, 'utf8')}`;
      } catch {
        return 'not started';
      }
    },
  });
}

/** Derives the per-payment usage of both designs from the sample and scales it. */
export function notificationFigures(
  projectRoot: string,
  sample: NotifySampleResult,
  wallMs: number,
): NotificationFigures {
  const retry = readAsl(projectRoot, NOTIFY_RETRY_ASL);
  const expiry = readAsl(projectRoot, ORDER_EXPIRY_ASL);
  const naiveNotify = naiveNotificationDefinition(retry);
  const paths: AslPaths = {
    retryDeliveredFirstRetry: aslPath(retry, { attempt: { delivered: true } }),
    expiryOnePage: aslPath(expiry, { result: { done: true } }),
    naiveNotifyDelivered: aslPath(naiveNotify, { first: { delivered: true } }),
    naiveNotifyRetried: aslPath(naiveNotify, { first: { delivered: false }, attempt: { delivered: true } }),
  };
  checkMeasuredPath('notify-retry', sample.notifyRetry.transitionsHistogram, paths.retryDeliveredFirstRetry);
  checkMeasuredPath('order-expiry', sample.orderExpiry.transitionsHistogram, paths.expiryOnePage);

  const bucketsPerDay = Math.min(MINUTES_PER_DAY, sample.paymentsPerDay);
  const design = thisDesign(sample, paths, bucketsPerDay);
  const naive = naiveDesign(sample, paths);
  return {
    sample,
    wallMs,
    paths,
    bucketsPerDay,
    design,
    naive,
    scaled: SCALES.map((payments) => ({
      payments,
      design: totals(design, payments, sample.paymentsPerDay),
      naive: totals(naive, payments, sample.paymentsPerDay),
    })),
  };
}

/**
 * The naive notification workflow: the shared retry machine with the FIRST attempt moved into it, so every
 * notification is an execution (`FirstAttempt` → `FirstDelivered?` → done, or on into the retry schedule).
 */
export function naiveNotificationDefinition(retry: AslDefinition): AslDefinition {
  // The first attempt invokes the same function as the scheduled retries (the machine's first Task state).
  const attempt = Object.values(retry.States).find((state) => state.Type === 'Task');
  if (!attempt) throw new Error('notify-retry has no Task state to model the first attempt on');
  return {
    StartAt: 'FirstAttempt',
    States: {
      FirstAttempt: {
        Type: 'Task',
        Resource: attempt.Resource,
        Parameters: attempt.Parameters,
        ResultSelector: attempt.ResultSelector,
        ResultPath: '$.first',
        Next: 'FirstDelivered?',
      },
      'FirstDelivered?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.first.delivered', BooleanEquals: true, Next: 'DeliveredFirstTime' }],
        Default: retry.StartAt,
      },
      DeliveredFirstTime: { Type: 'Succeed' },
      ...retry.States,
    },
  };
}

/** Every measured execution of a machine entered exactly the states the walk predicts, or the comparison is off. */
function checkMeasuredPath(machine: string, histogram: Record<string, number>, path: string[]): void {
  const counts = Object.keys(histogram).map(Number);
  if (counts.some((count) => count !== path.length)) {
    throw new Error(
      `${machine}: measured executions entered ${counts.join('/')} states, the ASL walk ${path.join(' → ')} ` +
        `enters ${path.length}; the naive comparison would not be like for like`,
    );
  }
}

function lambdaOf(sample: NotifySampleResult, name: string): FunctionSummary {
  return (
    sample.lambdas.find((fn) => fn.name === name) ?? {
      name,
      invocations: 0,
      records: 0,
      meanMs: 0,
      maxMs: 0,
      billedMs: 0,
      failures: 0,
    }
  );
}

/** Billed GB-seconds of one invocation of `fn`, on average (measured locally). */
function gbSecondsPerInvocation(fn: FunctionSummary): number {
  return fn.invocations ? (fn.billedMs / fn.invocations / 1000) * LAMBDA_MEMORY_GB : 0;
}

/**
 * This design, per payment. Measured and divided by the sample's payments: retry executions, SQS requests (the
 * idle poller's empty receives excluded: they scale with time), and every function's invocations and billed
 * duration. Expiry executions follow from the assumed arrival rate instead (one per expiry minute that has an order:
 * min(1,440, payments a day) a day), each taking the measured transitions and task invocations.
 */
function thisDesign(sample: NotifySampleResult, paths: AslPaths, bucketsPerDay: number): DesignUsage {
  const n = sample.payments;
  const expiryPerPayment = bucketsPerDay / sample.paymentsPerDay;
  const expiry = lambdaOf(sample, 'ExpireBucket');
  const sqsTotal = Object.values(sample.sqs.calls).reduce((sum, count) => sum + count, 0);
  const perPayment = (fn: FunctionSummary) => ({
    name: fn.name,
    invocations: fn.invocations / n,
    gbSeconds: (fn.billedMs / 1000 / n) * LAMBDA_MEMORY_GB,
    basis: 'measured',
  });
  return {
    name: 'this design',
    executions: [
      {
        machine: 'notify-retry',
        perPayment: sample.notifyRetry.executions / n,
        transitionsEach: sample.notifyRetry.executions
          ? sample.notifyRetry.transitions / sample.notifyRetry.executions
          : paths.retryDeliveredFirstRetry.length,
        basis: 'measured: one per refused first delivery',
      },
      {
        machine: 'order-expiry',
        perPayment: expiryPerPayment,
        transitionsEach: sample.orderExpiry.transitions / sample.orderExpiry.executions,
        basis: `${bucketsPerDay.toLocaleString('en-US')} minute buckets a day ÷ ${sample.paymentsPerDay.toLocaleString('en-US')} payments a day`,
      },
    ],
    sqsRequests: (sqsTotal - sample.sqs.emptyReceives) / n,
    sqsIdleReceivesPerDay: SQS_IDLE_RECEIVES_PER_DAY,
    lambdas: [
      ...sample.lambdas.filter((fn) => fn.name !== 'ExpireBucket' && fn.invocations > 0).map(perPayment),
      {
        name: 'ExpireBucket',
        invocations: expiryPerPayment * (expiry.invocations / sample.orderExpiry.executions),
        gbSeconds:
          expiryPerPayment * (expiry.invocations / sample.orderExpiry.executions) * gbSecondsPerInvocation(expiry),
        basis: 'measured per execution × executions',
      },
    ],
  };
}

/**
 * The naive design, per payment: one order-expiry execution per order (the shared ASL, one page) and one
 * notification execution per event ({@link naiveNotificationDefinition}), with the sample's refused-first share.
 * No queue: the relay would start the executions itself. Its Lambda work: the same relay, one attempt invocation per
 * delivery attempt, one expiry invocation per order, each at the duration measured for that function here.
 */
function naiveDesign(sample: NotifySampleResult, paths: AslPaths): DesignUsage {
  const n = sample.payments;
  const notifications = sample.events.total / n;
  const refusedShare = sample.failingFirst / sample.events.total;
  const relay = lambdaOf(sample, 'OutboxRelay');
  const attempt = lambdaOf(sample, 'NotifyAttempt');
  const notify = lambdaOf(sample, 'Notify');
  const expiry = lambdaOf(sample, 'ExpireBucket');
  // One delivery attempt's billed duration: the retry task's, or the queue consumer's per message without retries.
  const attemptGbSeconds = attempt.invocations
    ? gbSecondsPerInvocation(attempt)
    : (notify.billedMs / Math.max(1, notify.records) / 1000) * LAMBDA_MEMORY_GB;
  const attempts = notifications * (1 + refusedShare);
  return {
    name: 'naive design',
    executions: [
      {
        machine: 'notify (per notification)',
        perPayment: notifications,
        transitionsEach:
          (1 - refusedShare) * paths.naiveNotifyDelivered.length + refusedShare * paths.naiveNotifyRetried.length,
        basis: `ASL walk: ${paths.naiveNotifyDelivered.length} delivered first, ${paths.naiveNotifyRetried.length} with one retry`,
      },
      {
        machine: 'order-expiry (per order)',
        perPayment: 1,
        transitionsEach: paths.expiryOnePage.length,
        basis: `ASL walk: ${paths.expiryOnePage.join(' → ')}`,
      },
    ],
    sqsRequests: 0,
    sqsIdleReceivesPerDay: 0,
    lambdas: [
      {
        name: 'OutboxRelay',
        invocations: relay.invocations / n,
        gbSeconds: (relay.billedMs / 1000 / n) * LAMBDA_MEMORY_GB,
        basis: 'as measured here',
      },
      {
        name: 'NotifyAttempt',
        invocations: attempts,
        gbSeconds: attempts * attemptGbSeconds,
        basis: 'one per attempt, measured duration',
      },
      {
        name: 'ExpireBucket',
        invocations: 1,
        gbSeconds: gbSecondsPerInvocation(expiry),
        basis: 'one per order, measured duration',
      },
    ],
  };
}

/** A design's counts and cost for `payments` payments arriving at `paymentsPerDay`. */
export function totals(usage: DesignUsage, payments: number, paymentsPerDay: number): DesignTotals {
  const days = payments / paymentsPerDay;
  const executions = payments * usage.executions.reduce((sum, e) => sum + e.perPayment, 0);
  const transitions = payments * usage.executions.reduce((sum, e) => sum + e.perPayment * e.transitionsEach, 0);
  const sqsRequests = payments * usage.sqsRequests;
  const sqsIdleReceives = days * usage.sqsIdleReceivesPerDay;
  const lambdaInvocations = payments * usage.lambdas.reduce((sum, fn) => sum + fn.invocations, 0);
  const lambdaGbSeconds = payments * usage.lambdas.reduce((sum, fn) => sum + fn.gbSeconds, 0);
  const cost = {
    sfn: transitions * PRICES.sfnPerTransition,
    sqs: sqsRequests * PRICES.sqsPerRequest,
    sqsIdle: sqsIdleReceives * PRICES.sqsPerRequest,
    lambdaRequests: lambdaInvocations * PRICES.lambdaPerRequest,
    lambdaDuration: lambdaGbSeconds * PRICES.lambdaArmPerGbSecond,
    total: 0,
  };
  cost.total = cost.sfn + cost.sqs + cost.sqsIdle + cost.lambdaRequests + cost.lambdaDuration;
  return {
    payments,
    days,
    executions,
    transitions,
    sqsRequests,
    sqsIdleReceives,
    lambdaInvocations,
    lambdaGbSeconds,
    cost,
  };
}
