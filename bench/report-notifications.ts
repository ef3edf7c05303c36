import {
  LAMBDA_MEMORY_GB,
  PRICES,
  SQS_IDLE_POLLERS,
  SQS_IDLE_RECEIVES_PER_DAY,
  SQS_LONG_POLL_SECONDS,
} from './aws-prices.ts';
import { heading, indent, num, table, wrap, wrappedKeyValues } from './format.ts';
import type { DesignTotals, DesignUsage, NotificationFigures } from './notification-cost.ts';
import type { FunctionSummary, NotifySampleResult } from './notify-sample.ts';
import { round } from './stats.ts';

/** Section 6: the notification sample, its scaled counts, and the cost of both designs. */
export function printNotificationSection(figures: NotificationFigures): void {
  const { sample, paths } = figures;
  const n = sample.payments;
  console.log(heading('6. Notifications and expiry timers: Step Functions, SQS and Lambda cost vs the naive design'));
  console.log(
    indent(
      [
        `measured on the local runtime, then scaled: ${num(n)} payments (BENCH_NOTIFY_SAMPLE) through the real handlers —`,
        'outbox relay on the table stream (batch 100, the CDK filter), notify on the SQS queue (batch 10), notify-retry',
        'and order-expiry from statemachines/*.asl.json with their task handlers, all in a process of their own',
      ].join('\n'),
    ),
  );
  console.log('');
  console.log(
    wrappedKeyValues(
      [
        [
          'arrivals',
          `${num(sample.paymentsPerDay)} payments/day assumed (BENCH_NOTIFY_PER_DAY), evenly: one every ` +
            `${num(sample.spacingSeconds, 2)} s of simulated time, so the sample spans ${num(sample.simulatedMinutes, 1)} ` +
            `minutes; each paid 20 s after creation, expiring ${num(sample.expireInSeconds / 60)} min after it`,
        ],
        [
          'merchant',
          `${sample.failEvery === 1 ? 'every' : `every ${ordinal(sample.failEvery)}`} payment's endpoint ` +
            `(BENCH_NOTIFY_FAIL_EVERY) answers 503 to the first ` +
            `delivery, 204 to everything else: ${num(sample.failingFirst)} of ${num(n)} ` +
            `(${num((100 * sample.failingFirst) / n, 1)} %) need exactly one retry`,
        ],
        [
          'time',
          `Wait states ×${sample.waitTimeScale.toPrecision(3)} (the longest timer, ` +
            `${num(sample.longestTimerSeconds / 60, 1)} min, takes 3 s); NOTIFY_RETRY_SCHEDULE ${sample.retrySchedule} s`,
        ],
        [
          'verified',
          `${num(sample.events.delivered)}/${num(sample.events.total)} events DELIVERED (${num(sample.events.oneAttempt)} in ` +
            `1 attempt, ${num(sample.events.twoAttempts)} in 2: 503 then 204); ${num(sample.notifyRetry.executions)} ` +
            `notify-retry and ${num(sample.orderExpiry.executions)} order-expiry executions, all SUCCEEDED`,
        ],
        [
          'wall time',
          `${num(sample.elapsedMs / 1000, 1)} s from the first payment to the last delete (creating them: ` +
            `${num(sample.createElapsedMs / 1000, 1)} s); section ${num(figures.wallMs / 1000, 1)} s`,
        ],
      ],
      WIDTH,
    ),
  );
  console.log('');
  console.log(indent(sampleTable(sample, paths)));
  console.log('');
  console.log(indent(lambdaTable(sample)));
  console.log('');
  console.log(indent(usageTable(figures)));
  console.log('');
  console.log(indent(scaledTable(figures)));
  console.log('');
  console.log(indent(costTable(figures)));
  console.log('');
  console.log(
    indent(
      notes(figures)
        .map((note) => wrap(note, WIDTH - 2, '  '))
        .join('\n'),
    ),
  );
}

/** Widest line of the section's prose (the tables are as wide as their contents). */
const WIDTH = 118;

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] ?? 'th');
  return `${n}${suffix}`;
}

function sampleTable(sample: NotifySampleResult, paths: NotificationFigures['paths']): string {
  const n = sample.payments;
  const calls = sample.sqs.calls;
  const receives = calls.ReceiveMessage ?? 0;
  const busyReceives = receives - sample.sqs.emptyReceives;
  const row = (label: string, count: number, note: string) => [label, num(count), num(count / n, 4), note];
  const otherSqs = Object.entries(calls).filter(
    ([operation]) => !['SendMessage', 'ReceiveMessage', 'DeleteMessageBatch'].includes(operation),
  );
  return table(
    [
      { header: `measured in the sample (${num(n)} payments)` },
      { header: 'count', align: 'right' },
      { header: 'per payment', align: 'right' },
      { header: 'note' },
    ],
    [
      row('notify-retry executions', sample.notifyRetry.executions, 'one per refused first delivery'),
      row(
        '  state transitions',
        sample.notifyRetry.transitions,
        `${paths.retryDeliveredFirstRetry.length} each: ${paths.retryDeliveredFirstRetry.join(' → ')}`,
      ),
      row(
        'order-expiry executions',
        sample.orderExpiry.executions,
        `one per expiry minute (${num(sample.buckets)} distinct)`,
      ),
      row(
        '  state transitions',
        sample.orderExpiry.transitions,
        `${paths.expiryOnePage.length} each: ${paths.expiryOnePage.join(' → ')}`,
      ),
      row('SQS SendMessage', calls.SendMessage ?? 0, 'the relay, one per outbox event'),
      row(
        'SQS ReceiveMessage with messages',
        busyReceives,
        `the poller: ${num(sample.sqs.receivedMessages / Math.max(1, busyReceives), 2)} messages each on average`,
      ),
      row('SQS DeleteMessageBatch', calls.DeleteMessageBatch ?? 0, 'the poller, after each handled batch'),
      ...otherSqs.map(([operation, count]) => row(`SQS ${operation}`, count, '')),
      row(
        'SQS ReceiveMessage, empty',
        sample.sqs.emptyReceives,
        `idle poller (local: short poll + 100 ms pause): scales with time, priced separately`,
      ),
      ...Object.entries(sample.sfnApi).map(([operation, count]) =>
        row(
          `Step Functions ${operation}`,
          count,
          operation === 'StartExecution'
            ? `not billed; for ${num(sample.sfnStartedNames)} executions (repeats: same name and input, idempotent)`
            : 'not billed (Standard bills transitions)',
        ),
      ),
    ],
  );
}

function lambdaTable(sample: NotifySampleResult): string {
  const n = sample.payments;
  const row = (fn: FunctionSummary) => [
    fn.name,
    num(fn.invocations),
    num(fn.invocations / n, 4),
    num(fn.invocations ? fn.records / fn.invocations : 0, 2),
    num(fn.meanMs, 1),
    num(fn.maxMs, 1),
    num((fn.billedMs / 1000) * LAMBDA_MEMORY_GB, 3),
  ];
  return table(
    [
      { header: `Lambda (arm64, ${LAMBDA_MEMORY_GB * 1024} MB), measured` },
      { header: 'invocations', align: 'right' },
      { header: 'per payment', align: 'right' },
      { header: 'records/inv', align: 'right' },
      { header: 'mean ms', align: 'right' },
      { header: 'max ms', align: 'right' },
      { header: 'billed GB-s', align: 'right' },
    ],
    sample.lambdas.filter((fn) => fn.invocations > 0).map(row),
  );
}

function usageTable(figures: NotificationFigures): string {
  const rows: string[][] = [];
  for (const design of [figures.design, figures.naive]) {
    for (const e of design.executions) {
      rows.push([
        design.name,
        `${e.machine} executions`,
        num(e.perPayment, 4),
        `× ${num(e.transitionsEach, 2)} transitions (${e.basis})`,
      ]);
    }
    rows.push([design.name, 'SQS requests', num(design.sqsRequests, 4), design.sqsRequests ? 'measured' : 'no queue']);
    for (const fn of design.lambdas) {
      rows.push([
        design.name,
        `${fn.name} invocations`,
        num(fn.invocations, 4),
        `${num(fn.gbSeconds, 5)} GB-s (${fn.basis})`,
      ]);
    }
  }
  return table(
    [{ header: 'per payment' }, { header: 'what' }, { header: 'count', align: 'right' }, { header: 'basis' }],
    rows,
  );
}

function scaledTable(figures: NotificationFigures): string {
  const columns = figures.scaled.flatMap((s) => [
    { header: `${num(s.payments)}: this design`, align: 'right' as const },
    { header: 'naive', align: 'right' as const },
  ]);
  const row = (label: string, pick: (t: DesignTotals) => string) => [
    label,
    ...figures.scaled.flatMap((s) => [pick(s.design), pick(s.naive)]),
  ];
  return [
    `scaled to ${figures.scaled.map((s) => num(s.payments)).join(' and ')} payments at ` +
      `${num(figures.sample.paymentsPerDay)} a day (${figures.scaled.map((s) => days(s.design.days)).join(', ')}):`,
    table(
      [{ header: 'payments' }, ...columns],
      [
        row('Step Functions executions', (t) => num(t.executions)),
        row('  state transitions', (t) => num(t.transitions)),
        row('SQS requests (with payments)', (t) => num(t.sqsRequests)),
        row('SQS idle receives (with time)', (t) => num(t.sqsIdleReceives)),
        row('Lambda invocations', (t) => num(t.lambdaInvocations)),
        row('Lambda GB-s', (t) => num(t.lambdaGbSeconds, 1)),
        row('cost, USD', (t) => usd(t.cost.total)),
      ],
    ),
  ].join('\n');
}

function costTable(figures: NotificationFigures): string {
  const million = perMillion(figures);
  const { design, naive } = million;
  const line = (label: string, a: number, b: number) => [label, usd(a), usd(b), ratio(b, a)];
  return [
    `cost per 1,000,000 payments (USD; ${PRICES.label}):`,
    table(
      [
        { header: 'service' },
        { header: 'this design', align: 'right' },
        { header: 'naive', align: 'right' },
        { header: 'naive ÷ this', align: 'right' },
      ],
      [
        line('Step Functions Standard, $0.025 / 1,000 transitions', design.cost.sfn, naive.cost.sfn),
        line('SQS requests, $0.40 / million', design.cost.sqs, naive.cost.sqs),
        line(`SQS idle polling over ${days(design.days)}`, design.cost.sqsIdle, naive.cost.sqsIdle),
        line('Lambda requests, $0.20 / million', design.cost.lambdaRequests, naive.cost.lambdaRequests),
        line('Lambda duration, arm64 $0.0000133334 / GB-s', design.cost.lambdaDuration, naive.cost.lambdaDuration),
        line('total', design.cost.total, naive.cost.total),
        [
          'Step Functions share of the total',
          percent(design.cost.sfn, design.cost.total),
          percent(naive.cost.sfn, naive.cost.total),
          '',
        ],
      ],
    ),
  ].join('\n');
}

function notes(figures: NotificationFigures): string[] {
  const { sample } = figures;
  const million = perMillion(figures);
  const attempts = 1 + sample.failingFirst / sample.events.total;
  const per100ms = 1_000_000 * attempts * 0.1 * LAMBDA_MEMORY_GB * PRICES.lambdaArmPerGbSecond;
  const bound = unbatchedBound(figures);
  return [
    'Assumptions and limits (every figure above is measured, or arithmetic on these):',
    `- expiry: payments spread evenly over the day fill every minute from 1,440 a day up, so this design runs ` +
      `${num(figures.bucketsPerDay)} order-expiry executions a day (min(1,440, payments a day)); the sample, created at ` +
      `that density, had ${num(sample.orderExpiry.executions)} for ${num(sample.payments)} payments ` +
      `(${num(sample.orderExpiry.executions / sample.payments, 4)} per payment vs ` +
      `${num(figures.bucketsPerDay / sample.paymentsPerDay, 4)}: partial minutes at its edges). Every order here is paid, ` +
      'so each bucket is one empty page; a bucket with more than 100 pending orders adds 3 transitions per extra page.',
    `- SQS idle polling: an idle event source mapping long-polls with ${SQS_IDLE_POLLERS} pollers (the notify mapping ` +
      `sets a maximum concurrency, so Lambda does not scale down to 2); assumed one ${SQS_LONG_POLL_SECONDS} s long poll ` +
      `each, ${num(SQS_IDLE_RECEIVES_PER_DAY)} empty receives a day = ${usd(SQS_IDLE_RECEIVES_PER_DAY * PRICES.sqsPerRequest * 30)} ` +
      'a month whatever the traffic (an upper bound: busy pollers receive messages instead). The local poller short-polls ' +
      `every 100 ms when idle, so its ${num(sample.sqs.emptyReceives)} empty receives measure only this run's length.`,
    `- batching: the sample creates ${num(sample.simulatedMinutes, 0)} simulated minutes of payments in ` +
      `${num(sample.createElapsedMs / 1000, 1)} s, so relay and notify batches hold several records; at ` +
      `${num(sample.paymentsPerDay)} a day (one every ${num(sample.spacingSeconds, 1)} s) most would hold one. ` +
      `Unbatched bound (one invocation per relayed record and per message, receive + delete per message): ` +
      `this design ${usd(bound.design)}, naive ${usd(bound.naive)} per million, naive ÷ this ${ratio(bound.naive, bound.design)}.`,
    `- Lambda duration is the local mean wall time of each invocation (billed rounded up to 1 ms, ${LAMBDA_MEMORY_GB * 1024} MB); ` +
      `the local merchant answers at once. Each 100 ms a real merchant takes to answer adds ${usd(per100ms)} per million ` +
      `payments to BOTH designs (${num(attempts, 2)} delivery attempts per payment).`,
    '- naive design: one Standard execution per order for expiry (the shared order-expiry ASL, one page) and one per ' +
      `notification (the shared notify-retry ASL behind a first-attempt Task + Choice: ` +
      `${figures.paths.naiveNotifyDelivered.join(' → ')}); the relay starts them itself, so no queue and no SQS.`,
    `- not included: DynamoDB (events, attempts, expiry index), CloudWatch, data transfer; DynamoDB stream reads by a ` +
      `Lambda trigger are free. The Step Functions share is of the services priced here (per million: this design ` +
      `${usd(million.design.cost.sfn)} of ${usd(million.design.cost.total)}).`,
  ];
}

/** Totals per 1,000,000 payments (the largest scale). */
function perMillion(figures: NotificationFigures): { design: DesignTotals; naive: DesignTotals } {
  const scale = figures.scaled.find((s) => s.payments === 1_000_000);
  if (!scale) throw new Error('the figures have no 1,000,000-payment scale');
  return scale;
}

/**
 * Cost per million payments if no batching happened: one relay invocation per relayed record, one notify invocation
 * per message, and a receive plus a delete per message — what the measured batches save at most.
 */
export function unbatchedBound(figures: NotificationFigures): { design: number; naive: number } {
  const { sample } = figures;
  const million = perMillion(figures);
  const n = sample.payments;
  // More invocations for the same records: the per-record work stays, only the request count grows.
  const extra = (fn: string) => {
    const measured = sample.lambdas.find((f) => f.name === fn);
    return measured ? ((measured.records - measured.invocations) / n) * 1_000_000 * PRICES.lambdaPerRequest : 0;
  };
  const messages = (sample.sqs.calls.SendMessage ?? 0) / n;
  const sqsBound = 3 * messages * 1_000_000 * PRICES.sqsPerRequest;
  const design =
    million.design.cost.total - million.design.cost.sqs + sqsBound + extra('OutboxRelay') + extra('Notify');
  const naive = million.naive.cost.total + extra('OutboxRelay');
  return { design, naive };
}

/** The section's part of the BENCH_RESULT line (counts as measured, dollars to 4 decimals). */
export function notificationJson(figures: NotificationFigures) {
  const { sample } = figures;
  const million = perMillion(figures);
  const totalsJson = (t: DesignTotals) => ({
    payments: t.payments,
    days: round(t.days, 3),
    sfn_executions: round(t.executions),
    sfn_transitions: round(t.transitions),
    sqs_requests: round(t.sqsRequests),
    sqs_idle_receives: round(t.sqsIdleReceives),
    lambda_invocations: round(t.lambdaInvocations),
    lambda_gb_s: round(t.lambdaGbSeconds, 3),
    cost_usd: {
      sfn: round(t.cost.sfn, 4),
      sqs: round(t.cost.sqs, 4),
      sqs_idle: round(t.cost.sqsIdle, 4),
      lambda_requests: round(t.cost.lambdaRequests, 4),
      lambda_duration: round(t.cost.lambdaDuration, 4),
      total: round(t.cost.total, 4),
    },
  });
  const usageJson = (u: DesignUsage) => ({
    executions: u.executions.map((e) => ({
      machine: e.machine,
      per_payment: round(e.perPayment, 5),
      transitions_each: round(e.transitionsEach, 4),
      basis: e.basis,
    })),
    sqs_requests: round(u.sqsRequests, 5),
    sqs_idle_receives_per_day: u.sqsIdleReceivesPerDay,
    lambdas: u.lambdas.map((fn) => ({
      name: fn.name,
      invocations: round(fn.invocations, 5),
      gb_s: round(fn.gbSeconds, 6),
      basis: fn.basis,
    })),
  });
  const bound = unbatchedBound(figures);
  return {
    sample: {
      payments: sample.payments,
      fail_every: sample.failEvery,
      failing_first: sample.failingFirst,
      payments_per_day: sample.paymentsPerDay,
      spacing_s: round(sample.spacingSeconds, 3),
      simulated_minutes: round(sample.simulatedMinutes, 2),
      expiry_buckets: sample.buckets,
      wait_time_scale: sample.waitTimeScale,
      retry_schedule_s: sample.retrySchedule,
      elapsed_ms: round(sample.elapsedMs),
      create_elapsed_ms: round(sample.createElapsedMs),
      section_ms: round(figures.wallMs),
      verified: true,
      events: {
        total: sample.events.total,
        delivered: sample.events.delivered,
        one_attempt: sample.events.oneAttempt,
        two_attempts: sample.events.twoAttempts,
      },
      merchant: sample.merchant,
      notify_retry: {
        executions: sample.notifyRetry.executions,
        transitions: sample.notifyRetry.transitions,
        succeeded: sample.notifyRetry.succeeded,
      },
      order_expiry: {
        executions: sample.orderExpiry.executions,
        transitions: sample.orderExpiry.transitions,
        succeeded: sample.orderExpiry.succeeded,
      },
      sqs_requests: sample.sqs.calls,
      sqs_empty_receives: sample.sqs.emptyReceives,
      sqs_received_messages: sample.sqs.receivedMessages,
      sfn_api_requests: sample.sfnApi,
      sfn_started_executions: sample.sfnStartedNames,
      lambdas: sample.lambdas.map((fn) => ({
        name: fn.name,
        invocations: fn.invocations,
        records: fn.records,
        mean_ms: round(fn.meanMs),
        max_ms: round(fn.maxMs),
        billed_ms: fn.billedMs,
      })),
    },
    asl_paths: {
      retry_delivered_on_first_retry: figures.paths.retryDeliveredFirstRetry,
      expiry_one_page: figures.paths.expiryOnePage,
      naive_notify_delivered: figures.paths.naiveNotifyDelivered,
      naive_notify_retried: figures.paths.naiveNotifyRetried,
    },
    expiry_buckets_per_day: figures.bucketsPerDay,
    per_payment: { this_design: usageJson(figures.design), naive: usageJson(figures.naive) },
    scaled: figures.scaled.map((s) => ({
      payments: s.payments,
      this_design: totalsJson(s.design),
      naive: totalsJson(s.naive),
    })),
    cost_per_million_usd: {
      this_design: round(million.design.cost.total, 4),
      naive: round(million.naive.cost.total, 4),
      ratio_naive_to_this: round(million.naive.cost.total / million.design.cost.total, 2),
      sfn_share_this_design: round(million.design.cost.sfn / million.design.cost.total, 4),
      sfn_share_naive: round(million.naive.cost.sfn / million.naive.cost.total, 4),
      unbatched_bound: { this_design: round(bound.design, 4), naive: round(bound.naive, 4) },
    },
    prices: {
      label: PRICES.label,
      sfn_standard_per_1000_transitions: 0.025,
      sqs_per_million_requests: 0.4,
      lambda_per_million_requests: 0.2,
      lambda_arm_per_gb_s: PRICES.lambdaArmPerGbSecond,
      lambda_memory_mb: LAMBDA_MEMORY_GB * 1024,
      sqs_idle_receives_per_day: SQS_IDLE_RECEIVES_PER_DAY,
    },
  };
}

function days(value: number): string {
  const text = num(value, value < 10 && !Number.isInteger(value) ? 1 : 0);
  return `${text} ${text === '1' ? 'day' : 'days'}`;
}

function usd(value: number): string {
  if (value === 0) return '$0.00';
  return value < 0.01 ? `$${value.toPrecision(2)}` : `$${num(value, 2)}`;
}

function ratio(a: number, b: number): string {
  return b > 0 && a > 0 ? `${num(a / b, 1)}×` : '';
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${num((100 * part) / whole, 1)} %` : '';
}
