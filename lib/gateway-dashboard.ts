import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  LogQueryWidget,
  MathExpression,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { api5xxPercent, gatewayMetric, tableThrottles } from './gateway-alarms.ts';

/** Properties of {@link GatewayDashboard}. */
export interface GatewayDashboardProps {
  readonly httpApi: IHttpApi;
  readonly table: ITable;
  /** Every function, by id (`CreatePayment`, `Callback` and `Reconcile` get widgets of their own). */
  readonly functions: ReadonlyMap<string, IFunction & { readonly logGroup: ILogGroup }>;
  /** The alarms, shown as one status widget. */
  readonly alarms: readonly Alarm[];
}

const PERIOD = Duration.minutes(5);

/**
 * One CloudWatch dashboard of the gateway's indicators: payment creation success, callbacks per channel and their
 * latency, reconciliation differences, errors and throttles, and every alarm's state. Payment outcomes per channel
 * are not emitted as metrics yet, so success is read from the functions' invocations and the callbacks from their
 * request log lines; the text widget names the metrics that would replace them.
 */
export class GatewayDashboard extends Construct {
  /** The dashboard. */
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: GatewayDashboardProps) {
    super(scope, id);
    const fn = (name: string) => {
      const found = props.functions.get(name);
      if (!found) throw new Error(`the dashboard needs the ${name} function`);
      return found;
    };
    const createPayment = fn('CreatePayment');
    const callback = fn('Callback');
    const reconcile = fn('Reconcile');
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: 'pay-gateway',
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Payment creation success rate (%)',
        left: [
          new MathExpression({
            expression: 'IF(invocations > 0, 100 * (invocations - errors) / invocations, 100)',
            usingMetrics: {
              invocations: createPayment.metricInvocations({ period: PERIOD, statistic: Stats.SUM }),
              errors: createPayment.metricErrors({ period: PERIOD, statistic: Stats.SUM }),
            },
            label: 'CreatePayment invocations without error',
            period: PERIOD,
          }),
        ],
        leftYAxis: { min: 0, max: 100 },
        width: 8,
      }),
      new LogQueryWidget({
        title: 'Callbacks per channel and HTTP status (failures: 4xx / 5xx)',
        logGroupNames: [callback.logGroup.logGroupName],
        queryLines: ["filter message = 'request'", 'stats count(*) as callbacks by path, status', 'sort path, status'],
        width: 8,
      }),
      new GraphWidget({
        title: 'Callback latency (Callback function duration, ms)',
        left: [Stats.p(50), Stats.p(99)].map((statistic) =>
          callback.metricDuration({ period: PERIOD, statistic, label: statistic }),
        ),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new LogQueryWidget({
        title: 'Reconciliation differences per channel-day',
        logGroupNames: [reconcile.logGroup.logGroupName],
        queryLines: [
          "filter message = 'reconciled'",
          'fields date, channel, status, summary.matched as matched, summary.amount_mismatch as amount_mismatch, ' +
            'summary.status_mismatch as status_mismatch, summary.local_only as local_only, ' +
            'summary.channel_only as channel_only, summary.repaired as repaired',
          'sort date desc',
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Business alarms (count per 5 minutes)',
        left: [
          'CallbackSignatureRejected',
          'CallbackSourceRejected',
          'CallbackAmountMismatch',
          'RefundSubmitFailed',
          'LatePaymentSuccess',
          'NotificationFailed',
          'ReconciliationMissingBill',
          'BillDownloadFailed',
          'RateLimiterUnavailable',
        ].map((name) => gatewayMetric(name, PERIOD)),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors (sum per 5 minutes)',
        left: [...props.functions].map(([name, f]) =>
          f.metricErrors({ period: PERIOD, statistic: Stats.SUM, label: name }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'API: 5xx share (%) and p99 latency (ms)',
        left: [api5xxPercent(props.httpApi)],
        right: [props.httpApi.metricLatency({ period: PERIOD, statistic: Stats.p(99), label: 'p99 latency' })],
        width: 8,
      }),
      new GraphWidget({
        title: 'Throttles: table and functions',
        left: [
          tableThrottles(props.table),
          ...[...props.functions].map(([name, f]) =>
            f.metricThrottles({ period: PERIOD, statistic: Stats.SUM, label: `${name} throttles` }),
          ),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 16 }),
      new TextWidget({
        markdown:
          '**Not emitted yet:** `PaymentSucceeded` / `PaymentFailed` and `RefundSucceeded` / `RefundFailed` ' +
          '(dimension `channel`) for success and failure rates per channel, and `ReconciliationDifferences` ' +
          '(dimension `channel`) for a reconciliation trend. Until then these widgets read the functions and logs.',
        width: 8,
      }),
    );
  }
}
