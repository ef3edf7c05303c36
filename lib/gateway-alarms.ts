import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DEFAULT_ENVIRONMENT } from './gateway-function.ts';

/** The counters the functions emit through Powertools that must never happen silently. */
const ALARMED_METRICS = {
  NotificationFailed: 'A merchant notification exhausted its retries and went to the dead-letter queue',
  LatePaymentSuccess: 'A payment succeeded at the channel after it had expired (the wallet was credited late)',
  CallbackAmountMismatch: 'A channel callback reported an amount other than the payment amount (rejected)',
  RefundSubmitFailed: 'A refund could not be submitted to its channel: its amount stays frozen until it is retried',
  RateLimiterUnavailable: 'The rate limiter could not reach its DynamoDB buckets and admitted requests unlimited',
  UnsettledPastHorizon:
    'A refund still PROCESSING or a payment still PENDING hours after it was due: the status sync cannot settle it',
} as const;

/**
 * Forged or mis-signed channel callbacks in five minutes that raise the alarm: a stray scanner is noise, a burst is an
 * attack or a channel key that no longer matches (every genuine callback of that channel is then rejected).
 */
const CALLBACK_REJECTIONS_PER_5_MIN = 5;
/** The API's 5xx share (%) over five minutes, once at least {@link MIN_REQUESTS_FOR_RATE} requests came in. */
const API_5XX_PERCENT = 5;
const MIN_REQUESTS_FOR_RATE = 20;
/** The API's p99 latency (ms) over five minutes; the functions time out at 10 s. */
const API_P99_LATENCY_MS = 3000;

/** Properties of {@link GatewayAlarms}. */
export interface GatewayAlarmsProps {
  /** Notifications that could not be delivered. */
  readonly notifyDeadLetters: IQueue;
  /** Stream batches still undeliverable after the relay re-drive gave up. */
  readonly relayUndeliverable: IQueue;
  /** The workflows whose failed executions are alarmed, by a name for their alarm. */
  readonly stateMachines: Readonly<Record<string, IStateMachine>>;
  /** The functions whose failed invocations are alarmed hour by hour over a day (the daily reconciler), by id. */
  readonly functionErrors?: Readonly<Record<string, IFunction>>;
  /** Every function, by id: errors (unless in `functionErrors`) and throttles alarmed within five minutes. */
  readonly functions?: ReadonlyMap<string, IFunction>;
  /** The HTTP API: 5xx share and p99 latency. */
  readonly httpApi?: IHttpApi;
  /** The table: read and write throttle events. */
  readonly table?: ITable;
  /** An e-mail address subscribed to the topic (`-c alarmEmail=…`); none by default. */
  readonly alarmEmail?: string;
}

/**
 * Alarms on everything that needs a human: dead letters, stream batches the relay skipped, failed workflow
 * executions, the business counters of {@link ALARMED_METRICS}, forged callbacks, the API's 5xx share and p99
 * latency, each function's errors and throttles, and table throttling. They notify one KMS-encrypted SNS topic, to
 * which the operator subscribes (`-c alarmEmail=…` deploys an e-mail subscription).
 */
export class GatewayAlarms extends Construct {
  /** Where every alarm (and its recovery) is published. */
  readonly topic: Topic;
  /** Encrypts the topic; CloudWatch may use it to publish alarms of this account. */
  readonly topicKey: Key;
  /** The alarms, by construct id. */
  readonly alarms: ReadonlyMap<string, Alarm>;

  constructor(scope: Construct, id: string, props: GatewayAlarmsProps) {
    super(scope, id);
    // A customer-managed key: CloudWatch cannot publish to a topic under the AWS-managed SNS key, so the key policy
    // lets CloudWatch (for this account's alarms only) generate data keys and decrypt.
    this.topicKey = new Key(this, 'AlarmTopicKey', {
      description: 'pay-gateway: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.topicKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: 'pay-gateway alarms',
      enforceSSL: true,
      masterKey: this.topicKey,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const alarms = new Map<string, Alarm>();
    const alarm = (
      alarmId: string,
      metric: IMetric,
      description: string,
      evaluationPeriods = 1,
      options: { threshold?: number; datapointsToAlarm?: number } = {},
    ): void => {
      const created = new Alarm(this, alarmId, {
        metric,
        threshold: options.threshold ?? 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods,
        ...(evaluationPeriods > 1 ? { datapointsToAlarm: options.datapointsToAlarm ?? 1 } : {}),
        // No data means nothing happened: these metrics exist only when something went wrong (or nothing ran).
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      created.addOkAction(new SnsAction(this.topic));
      alarms.set(alarmId, created);
    };

    alarm(
      'NotifyDeadLettersAlarm',
      props.notifyDeadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      'Undeliverable merchant notifications are waiting in the notify dead-letter queue (inspect, then replay)',
    );
    alarm(
      'RelayUndeliverableAlarm',
      props.relayUndeliverable.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      'Outbox events the relay and its automatic re-drive could not deliver (about an hour of attempts): their ' +
        'events stay PENDING; replay them (POST /v1/events/{id}/replay) once the cause is fixed',
    );
    for (const [name, stateMachine] of Object.entries(props.stateMachines)) {
      alarm(
        `${name}FailedAlarm`,
        stateMachine.metricFailed({ period: Duration.minutes(5), statistic: Stats.SUM }),
        `A ${name} execution failed: its task kept failing after the workflow's own retries`,
      );
    }
    for (const [metricName, description] of Object.entries(ALARMED_METRICS)) {
      alarm(`${metricName}Alarm`, gatewayMetric(metricName), description);
    }
    // Reconciliation runs once a day: an hourly sum, alarming on any breaching hour of the last 24, keeps the alarm
    // raised for the day instead of clearing an hour after the run.
    alarm(
      'ReconciliationMissingBillAlarm',
      gatewayMetric('ReconciliationMissingBill', Duration.hours(1)),
      'A channel bill was missing when its day was reconciled (upload it to the bills bucket: it is reconciled on arrival)',
      RECONCILIATION_ALARM_HOURS,
    );
    // The bill worker runs hourly through the morning; a bill not published yet is not a failure.
    alarm(
      'BillDownloadFailedAlarm',
      gatewayMetric('BillDownloadFailed', Duration.hours(1)),
      'A channel bill could not be downloaded (channel unreachable or refusing, answer or file hash not verified); the next hourly run tries again, or run `npm run reconcile -- fetch`',
      RECONCILIATION_ALARM_HOURS,
    );
    for (const [name, fn] of Object.entries(props.functionErrors ?? {})) {
      alarm(
        `${name}ErrorsAlarm`,
        fn.metricErrors({ period: Duration.hours(1), statistic: Stats.SUM }),
        `${name} failed (its asynchronous retries included); re-run it with { "channel", "date" } once fixed`,
        RECONCILIATION_ALARM_HOURS,
      );
    }
    alarm(
      'CallbackSignatureRejectedAlarm',
      gatewayMetric('CallbackSignatureRejected'),
      `More than ${CALLBACK_REJECTIONS_PER_5_MIN} channel callbacks in 5 minutes failed signature verification: an ` +
        "attack, or a channel key that no longer matches the channel's (genuine callbacks are being rejected)",
      1,
      { threshold: CALLBACK_REJECTIONS_PER_5_MIN },
    );
    alarm(
      'CallbackSourceRejectedAlarm',
      gatewayMetric('CallbackSourceRejected'),
      `More than ${CALLBACK_REJECTIONS_PER_5_MIN} channel callbacks in 5 minutes came from outside their channel's ` +
        'allowlist: probing, or a channel that now calls from ranges the allowlist lacks (genuine callbacks refused)',
      1,
      { threshold: CALLBACK_REJECTIONS_PER_5_MIN },
    );
    if (props.httpApi) {
      alarm(
        'Api5xxAlarm',
        api5xxPercent(props.httpApi),
        `More than ${API_5XX_PERCENT} % of API requests failed with 5xx in 2 of the last 3 five-minute periods`,
        3,
        { threshold: API_5XX_PERCENT, datapointsToAlarm: 2 },
      );
      alarm(
        'ApiLatencyP99Alarm',
        props.httpApi.metricLatency({ period: Duration.minutes(5), statistic: Stats.p(99) }),
        `The API's p99 latency exceeded ${API_P99_LATENCY_MS} ms for 15 minutes`,
        3,
        { threshold: API_P99_LATENCY_MS, datapointsToAlarm: 3 },
      );
    }
    for (const [name, fn] of props.functions ?? []) {
      if (!props.functionErrors?.[name]) {
        alarm(
          `${name}FunctionErrorsAlarm`,
          fn.metricErrors({ period: Duration.minutes(5), statistic: Stats.SUM }),
          `${name} invocations failed (an unhandled error or a timeout, not an answered 4xx/5xx)`,
        );
      }
      alarm(
        `${name}ThrottlesAlarm`,
        fn.metricThrottles({ period: Duration.minutes(5), statistic: Stats.SUM }),
        `${name} invocations were throttled (account or reserved concurrency exhausted)`,
      );
    }
    if (props.table) {
      alarm(
        'TableThrottlesAlarm',
        tableThrottles(props.table),
        'The table throttled reads or writes (a hot partition: on-demand tables still limit each partition key)',
      );
    }
    this.alarms = alarms;
  }
}

/** The API's 5xx share in percent per five minutes; 0 while fewer than {@link MIN_REQUESTS_FOR_RATE} requests came. */
export function api5xxPercent(httpApi: IHttpApi): MathExpression {
  return new MathExpression({
    expression: `IF(requests >= ${MIN_REQUESTS_FOR_RATE}, 100 * errors / requests, 0)`,
    usingMetrics: {
      errors: httpApi.metricServerError({ period: Duration.minutes(5), statistic: Stats.SUM }),
      requests: httpApi.metricCount({ period: Duration.minutes(5), statistic: Stats.SUM }),
    },
    label: '5xx %',
    period: Duration.minutes(5),
  });
}

/**
 * Read plus write throttle events of the table per five minutes (a write that a GSI cannot absorb is throttled on
 * the table, so it counts here too).
 */
export function tableThrottles(table: ITable): MathExpression {
  return new MathExpression({
    expression: 'reads + writes',
    usingMetrics: {
      reads: table.metric('ReadThrottleEvents', { period: Duration.minutes(5), statistic: Stats.SUM }),
      writes: table.metric('WriteThrottleEvents', { period: Duration.minutes(5), statistic: Stats.SUM }),
    },
    label: 'throttle events',
    period: Duration.minutes(5),
  });
}

/** Hourly periods the daily reconciliation's alarms look back over: a day. */
const RECONCILIATION_ALARM_HOURS = 24;

/** A counter as Powertools emits it: the gateway namespace and the `service` dimension. */
export function gatewayMetric(metricName: string, period: Duration = Duration.minutes(5)): Metric {
  return new Metric({
    namespace: DEFAULT_ENVIRONMENT.POWERTOOLS_METRICS_NAMESPACE ?? 'PayGateway',
    metricName,
    dimensionsMap: { service: DEFAULT_ENVIRONMENT.POWERTOOLS_SERVICE_NAME ?? 'pay-gateway' },
    statistic: Stats.SUM,
    period,
  });
}
