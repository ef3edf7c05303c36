import { CfnOutput, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import type { FunctionContext } from './function-access.ts';
import { GatewayAlarms } from './gateway-alarms.ts';
import { GatewayApi } from './gateway-api.ts';
import { GatewayDashboard } from './gateway-dashboard.ts';
import { GatewayData } from './gateway-data.ts';
import type { GatewayFunction } from './gateway-function.ts';
import { GatewayWorkers } from './gateway-workers.ts';
import { GatewayWorkflows } from './gateway-workflows.ts';
import { type NotifyRetrySettings, notifyRetrySettings } from './worker-settings.ts';

/** Properties of {@link GatewayStack}. */
export interface GatewayStackProps extends StackProps {
  /** Absolute path of the project root (handler entries, ASL files, `package.json` import aliases, lock file). */
  readonly projectRoot: string;
  /** Enables the sandbox channel; for test environments only (`cdk deploy -c sandbox=true`). */
  readonly sandboxEnabled: boolean;
  /** The notification retry schedule; the contract's by default (`cdk deploy -c notifyRetrySchedule=1,5,30`). */
  readonly notifyRetry?: NotifyRetrySettings;
  /**
   * Merchants allowed to read the gateway-wide reconciliation reports, comma-separated (`FINANCE_MERCHANT_IDS` of
   * `GetReconciliation`; `cdk deploy -c financeMerchantIds=m_1,m_2`); nobody by default.
   */
  readonly financeMerchantIds?: string;
  /** An e-mail address subscribed to the alarm topic (`cdk deploy -c alarmEmail=ops@example.com`); none by default. */
  readonly alarmEmail?: string;
}

/**
 * The whole gateway in one stack: {@link GatewayData} (stateful, retained) and the stateless constructs that receive
 * it as props — {@link GatewayWorkflows} (state machines and their tasks), {@link GatewayWorkers} (stream and queue
 * consumers), {@link GatewayApi} (HTTP API and its functions) and {@link GatewayAlarms}.
 *
 * One stack rather than a data stack and an API stack: `Secret.grantRead` on a KMS-encrypted secret adds the reading
 * role to the key's policy (a `kms:ViaService` statement), so the data stack would reference the API stack's roles
 * while the API stack references the table — a cycle between stacks. One stack also avoids cross-stack exports, which
 * block changing or removing whatever they export. Nothing is lost: every stateful resource is retained on delete.
 */
export class GatewayStack extends Stack {
  /** The stateful resources. */
  readonly data: GatewayData;
  /** The state machines and their task functions. */
  readonly workflows: GatewayWorkflows;
  /** The table stream and notify queue consumers. */
  readonly workers: GatewayWorkers;
  /** The HTTP API and its functions. */
  readonly api: GatewayApi;
  /** The alarms and their topic. */
  readonly alarms: GatewayAlarms;
  /** The operations dashboard. */
  readonly dashboard: GatewayDashboard;
  /** Every function of `FUNCTIONS` and `WORKERS`, by id. */
  readonly functions: ReadonlyMap<string, GatewayFunction>;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    const { projectRoot, sandboxEnabled, notifyRetry, financeMerchantIds, alarmEmail, ...stackProps } = props;
    super(scope, id, stackProps);
    this.data = new GatewayData(this, 'Data');

    // Creation order follows the references: state machines name their task functions' ARNs, and the functions that
    // start a workflow name its ARN. Every function's PUBLIC_BASE_URL is the API's endpoint, but the API comes last
    // (its functions may start workflows), so the URL is resolved at synthesis, once the API exists.
    const context: FunctionContext = {
      projectRoot,
      data: this.data,
      publicBaseUrl: Lazy.string({ produce: () => this.api.url }),
      sandboxEnabled,
      notifyRetry: notifyRetry ?? notifyRetrySettings(),
      financeMerchantIds: financeMerchantIds ?? '',
    };
    this.workflows = new GatewayWorkflows(this, 'Workflows', { context });
    const withWorkflows: FunctionContext = { ...context, stateMachines: this.workflows };
    this.workers = new GatewayWorkers(this, 'Workers', { context: withWorkflows });
    this.api = new GatewayApi(this, 'Api', { context: withWorkflows });
    this.functions = new Map([...this.workflows.functions, ...this.workers.functions, ...this.api.functions]);
    this.alarms = new GatewayAlarms(this, 'Alarms', {
      notifyDeadLetters: this.data.notifyDeadLetters,
      relayUndeliverable: this.data.relayUndeliverable,
      stateMachines: { NotifyRetry: this.workflows.notifyRetry, OrderExpiry: this.workflows.orderExpiry },
      functionErrors: { Reconcile: this.functionOf('Reconcile') },
      functions: this.functions,
      httpApi: this.api.httpApi,
      table: this.data.table,
      ...(alarmEmail ? { alarmEmail } : {}),
    });
    this.dashboard = new GatewayDashboard(this, 'Dashboard', {
      httpApi: this.api.httpApi,
      table: this.data.table,
      functions: this.functions,
      alarms: [...this.alarms.alarms.values()],
    });
    this.suppressCdkInternals();

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the gateway API' });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName, description: 'The gateway table' });
    new CfnOutput(this, 'MerchantKeyId', {
      value: this.data.merchantKey.keyId,
      description: 'KMS key of merchant secrets (the merchant CLI encrypts with it)',
    });
    new CfnOutput(this, 'ChannelSecretsKeyId', {
      value: this.data.channelSecretsKey.keyId,
      description: 'KMS key of the Alipay / WeChat Pay account secrets (CHANNEL_SECRETS_KEY_ID of the channel CLI)',
    });
    new CfnOutput(this, 'SandboxSecretArn', {
      value: this.data.sandboxSecret.secretArn,
      description: 'Secrets Manager ARN of the sandbox channel secret',
    });
    new CfnOutput(this, 'NotifyQueueUrl', {
      value: this.data.notifyQueue.queueUrl,
      description: 'Merchant notifications to attempt',
    });
    new CfnOutput(this, 'NotifyDeadLetterQueueUrl', {
      value: this.data.notifyDeadLetters.queueUrl,
      description: 'Undeliverable merchant notifications (inspect, then replay)',
    });
    new CfnOutput(this, 'OutboxRelayFailureQueueUrl', {
      value: this.data.relayFailures.queueUrl,
      description: 'Table stream batches the outbox relay skipped (shard positions), re-driven every 5 minutes',
    });
    new CfnOutput(this, 'OutboxRelayUndeliverableQueueUrl', {
      value: this.data.relayUndeliverable.queueUrl,
      description: 'Stream batches still undeliverable after the re-drive gave up (alarmed; replay their events)',
    });
    new CfnOutput(this, 'NotifyRetryStateMachineArn', {
      value: this.workflows.notifyRetry.stateMachineArn,
      description: 'Retry schedule of failed merchant notifications',
    });
    new CfnOutput(this, 'OrderExpiryStateMachineArn', {
      value: this.workflows.orderExpiry.stateMachineArn,
      description: 'Expiry timers of pending orders, one execution per minute bucket',
    });
    new CfnOutput(this, 'BillsBucketName', {
      value: this.data.billsBucket.bucketName,
      description: 'Channel bill files, bills/{CHANNEL}/{YYYY-MM-DD}.csv (BILLS_BUCKET)',
    });
    new CfnOutput(this, 'ReportsBucketName', {
      value: this.data.reportsBucket.bucketName,
      description: 'Reconciliation reports, reports/{YYYY-MM-DD}/{CHANNEL}/ (REPORTS_BUCKET)',
    });
    new CfnOutput(this, 'FilesKeyId', {
      value: this.data.filesKey.keyId,
      description: 'KMS key of the bills and reports buckets (grant finance kms:Decrypt to download reports)',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarms.topic.topicArn,
      description: 'SNS topic of the gateway alarms (subscribe to it)',
    });
  }

  /**
   * cdk-nag findings on resources CDK itself adds: the singleton Lambda behind S3 bucket notifications (its role
   * carries the basic execution managed policy, and it runs CDK's own runtime).
   */
  private suppressCdkInternals(): void {
    for (const child of this.node.children) {
      if (!child.node.id.startsWith('BucketNotificationsHandler')) continue;
      NagSuppressions.addResourceSuppressions(
        child,
        [
          {
            id: 'AwsSolutions-IAM4',
            reason:
              "CDK's bucket-notifications custom resource handler: its role is CDK's, with the basic execution policy " +
              '(its own logs) plus s3:PutBucketNotification; it runs only while the stack deploys.',
            appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
          },
          {
            id: 'AwsSolutions-IAM5',
            reason:
              "CDK's bucket-notifications custom resource handler is granted s3:PutBucketNotification on Resource * " +
              'by CDK; it runs only while the stack deploys and can configure notifications, nothing else.',
            appliesTo: ['Resource::*'],
          },
        ],
        true,
      );
    }
  }

  /** The function of this `FUNCTIONS` or `WORKERS` id. */
  private functionOf(id: string): GatewayFunction {
    const fn = this.functions.get(id);
    if (!fn) throw new Error(`no function ${id}`);
    return fn;
  }
}
