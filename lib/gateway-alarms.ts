import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, Metric, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DEFAULT_ENVIRONMENT } from './gateway-function.ts';

/** The counters the functions emit through Powertools that must never happen silently. */
const ALARMED_METRICS = {
  NotificationFailed: 'A merchant notification exhausted its retries and went to the dead-letter queue',
  LatePaymentSuccess: 'A payment succeeded at the channel after it had expired (the wallet was credited late)',
  CallbackAmountMismatch: 'A channel callback reported an amount other than the payment amount (rejected)',
} as const;

/** Properties of {@link GatewayAlarms}. */
export interface GatewayAlarmsProps {
  /** Notifications that could not be delivered. */
  readonly notifyDeadLetters: IQueue;
  /** Stream batches the outbox relay gave up on. */
  readonly relayFailures: IQueue;
  /** The workflows whose failed executions are alarmed, by a name for their alarm. */
  readonly stateMachines: Readonly<Record<string, IStateMachine>>;
  /** The functions whose failed invocations are alarmed (those no queue or workflow watches), by function id. */
  readonly functionErrors?: Readonly<Record<string, IFunction>>;
}

/**
 * Alarms on everything that needs a human: dead letters, stream batches the relay skipped, failed workflow
 * executions, and the business counters of {@link ALARMED_METRICS}. They notify one SNS topic, to which the operator
 * subscribes (no subscription is deployed). Each alarms on the first occurrence: none of these is normal.
 */
export class GatewayAlarms extends Construct {
  /** Where every alarm (and its recovery) is published. */
  readonly topic: Topic;
  /** The alarms, by construct id. */
  readonly alarms: ReadonlyMap<string, Alarm>;

  constructor(scope: Construct, id: string, props: GatewayAlarmsProps) {
    super(scope, id);
    // Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed SNS key, and alarm messages
    // carry alarm names and thresholds only.
    this.topic = new Topic(this, 'AlarmTopic', { displayName: 'pay-gateway alarms', enforceSSL: true });
    const alarms = new Map<string, Alarm>();
    const alarm = (alarmId: string, metric: IMetric, description: string, evaluationPeriods = 1): void => {
      const created = new Alarm(this, alarmId, {
        metric,
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods,
        ...(evaluationPeriods > 1 ? { datapointsToAlarm: 1 } : {}),
        // No data means nothing happened: these metrics exist only when something went wrong.
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
      'RelayFailuresAlarm',
      props.relayFailures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      'The outbox relay skipped table stream records; re-drive their events within the 24 h stream retention',
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
    for (const [name, fn] of Object.entries(props.functionErrors ?? {})) {
      alarm(
        `${name}ErrorsAlarm`,
        fn.metricErrors({ period: Duration.hours(1), statistic: Stats.SUM }),
        `${name} failed (its asynchronous retries included); re-run it with { "channel", "date" } once fixed`,
        RECONCILIATION_ALARM_HOURS,
      );
    }
    this.alarms = alarms;
  }
}

/** Hourly periods the daily reconciliation's alarms look back over: a day. */
const RECONCILIATION_ALARM_HOURS = 24;

/** A counter as Powertools emits it: the gateway namespace and the `service` dimension. */
function gatewayMetric(metricName: string, period: Duration = Duration.minutes(5)): Metric {
  return new Metric({
    namespace: DEFAULT_ENVIRONMENT.POWERTOOLS_METRICS_NAMESPACE ?? 'PayGateway',
    metricName,
    dimensionsMap: { service: DEFAULT_ENVIRONMENT.POWERTOOLS_SERVICE_NAME ?? 'pay-gateway' },
    statistic: Stats.SUM,
    period,
  });
}
