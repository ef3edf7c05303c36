import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { TABLE_DEFINITION } from '#adapters/dynamo/table-definition.ts';
import {
  NOTIFY_DLQ,
  NOTIFY_QUEUE,
  NOTIFY_REDRIVE,
  RELAY_FAILURES,
  RELAY_REDRIVE,
  RELAY_UNDELIVERABLE,
} from '#adapters/queue-definitions.ts';
import { BILLS_BUCKET, REPORTS_BUCKET } from '#domain/buckets.ts';
import { accessLogsBucket, reconciliationBucket } from './gateway-files.ts';
import { functionTimeout } from './worker-settings.ts';

/**
 * Name prefix of the Alipay / WeChat Pay account secrets, as `SecretsManagerChannelSecrets` names them
 * (`pay-gateway/channels/<name>`, created by `scripts/channel.ts`). They are not stack resources: the CLI creates
 * them, encrypted under {@link GatewayData.channelSecretsKey}, so the functions are granted the prefix.
 */
export const CHANNEL_SECRETS_PREFIX = 'pay-gateway/channels/';

/** Alias of {@link GatewayData.channelSecretsKey}, for operators and the CLI. */
export const CHANNEL_SECRETS_KEY_ALIAS = 'alias/pay-gateway/channel-secrets';

/** Alias of {@link GatewayData.filesKey}, for finance's and operators' key policies and grants. */
export const FILES_KEY_ALIAS = 'alias/pay-gateway/reconciliation-files';

/** Lambda's advice for a queue event source: a visibility timeout of at least six times the function's timeout. */
const VISIBILITY_TO_FUNCTION_TIMEOUT = 6;

/**
 * Every queue: TLS only, and SQS-managed encryption at rest. The messages carry ids (event, merchant, shard
 * positions), never payment data or secrets, so a customer-managed key would add a KMS call per message and key
 * grants for every producer and consumer while protecting nothing more.
 */
const QUEUE_SECURITY = {
  encryption: QueueEncryption.SQS_MANAGED,
  enforceSSL: true,
  removalPolicy: RemovalPolicy.RETAIN,
} as const;

/**
 * The stateful resources: everything that holds data and must outlive a change to the API — the table, the keys,
 * the sandbox channel secret, the notification queues and the reconciliation buckets. The stateless half receives them as props. All of them are
 * retained when the stack is deleted.
 */
export class GatewayData extends Construct {
  /** The single table (payments, wallets, ledger, events, merchants…). */
  readonly table: Table;
  /** Encrypts the table and the sandbox channel secret at rest. */
  readonly dataKey: Key;
  /** Envelope key of merchant signing secrets: functions only decrypt; the merchant CLI encrypts. */
  readonly merchantKey: Key;
  /**
   * Encrypts the Alipay / WeChat Pay account secrets (`pay-gateway/channels/*`), which the channel CLI creates with it
   * (`CHANNEL_SECRETS_KEY_ID`); functions only decrypt, and only through Secrets Manager.
   */
  readonly channelSecretsKey: Key;
  /** The sandbox channel's HMAC secret. */
  readonly sandboxSecret: Secret;
  /** Merchant notifications to attempt (first attempts and replays); the `Notify` function consumes it. */
  readonly notifyQueue: Queue;
  /** Notifications whose retries ran out, and messages the notify queue could not hand on; kept for re-drive. */
  readonly notifyDeadLetters: Queue;
  /**
   * Where the table stream's event source mapping records a batch the outbox relay gave up on (the shard positions,
   * not the items): separate from the notify dead-letter queue, which only `NotifyFailed` may write to. The
   * scheduled `RelayRedrive` consumes it; after its last allowed receive a record moves to {@link relayUndeliverable}.
   */
  readonly relayFailures: Queue;
  /** Stream batches still undeliverable after the re-drive gave up: alarmed; an operator replays their events. */
  readonly relayUndeliverable: Queue;
  /**
   * Encrypts the bills and reports buckets. Its own key rather than the data key: whoever may read reconciliation
   * files — the reconcile function, the function that presigns report URLs (a presigned GET decrypts with the
   * signer's permissions), finance's own role — gets `kms:Decrypt` on this key without being able to decrypt the
   * table or the sandbox secret. One key for both buckets: the one function that reads bills writes the reports.
   */
  readonly filesKey: Key;
  /** Channel bill files, `bills/{CHANNEL}/{YYYY-MM-DD}.csv` (`BILLS_BUCKET`), read by `billsRead` functions. */
  readonly billsBucket: Bucket;
  /** Reconciliation reports, `reports/{YYYY-MM-DD}/{CHANNEL}/…` (`REPORTS_BUCKET`), per `reportsRead`/`reportsWrite`. */
  readonly reportsBucket: Bucket;
  /** S3 server access logs of the bills and reports buckets (SSE-S3, as S3 log delivery requires). */
  readonly accessLogsBucket: Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    // Separate keys: reading the table (which needs the data key) must imply reading neither merchant secrets nor
    // the external channels' account keys, and a function that calls a channel need not read merchant secrets.
    this.dataKey = new Key(this, 'DataKey', {
      description: 'pay-gateway: encrypts the table and the channel secrets at rest',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.merchantKey = new Key(this, 'MerchantKey', {
      description: 'pay-gateway: envelope key of merchant signing secrets',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.channelSecretsKey = new Key(this, 'ChannelSecretsKey', {
      description: 'pay-gateway: encrypts the Alipay / WeChat Pay account secrets (pay-gateway/channels/*)',
      alias: CHANNEL_SECRETS_KEY_ALIAS,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table = gatewayTable(this, this.dataKey);
    this.sandboxSecret = new Secret(this, 'SandboxChannelSecret', {
      description: 'pay-gateway: HMAC secret of the built-in sandbox channel',
      encryptionKey: this.dataKey,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.notifyDeadLetters = new Queue(this, 'NotifyDeadLetterQueue', {
      queueName: NOTIFY_DLQ.name,
      retentionPeriod: Duration.days(NOTIFY_DLQ.retentionDays),
      ...QUEUE_SECURITY,
    });
    this.notifyQueue = new Queue(this, 'NotifyQueue', {
      queueName: NOTIFY_QUEUE.name,
      visibilityTimeout: notifyVisibilityTimeout(),
      deadLetterQueue: { queue: this.notifyDeadLetters, maxReceiveCount: NOTIFY_REDRIVE.maxReceiveCount },
      ...QUEUE_SECURITY,
    });
    this.relayUndeliverable = new Queue(this, 'OutboxRelayUndeliverableQueue', {
      queueName: RELAY_UNDELIVERABLE.name,
      retentionPeriod: Duration.days(RELAY_UNDELIVERABLE.retentionDays),
      ...QUEUE_SECURITY,
    });
    this.relayFailures = new Queue(this, 'OutboxRelayFailureQueue', {
      queueName: RELAY_FAILURES.name,
      retentionPeriod: Duration.days(RELAY_FAILURES.retentionDays),
      visibilityTimeout: relayFailuresVisibilityTimeout(),
      deadLetterQueue: { queue: this.relayUndeliverable, maxReceiveCount: RELAY_REDRIVE.maxReceiveCount },
      ...QUEUE_SECURITY,
    });
    this.filesKey = new Key(this, 'FilesKey', {
      description: 'pay-gateway: encrypts the channel bills and reconciliation reports buckets',
      alias: FILES_KEY_ALIAS,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.accessLogsBucket = accessLogsBucket(this, 'FilesAccessLogsBucket');
    this.billsBucket = reconciliationBucket(this, 'BillsBucket', BILLS_BUCKET, this.filesKey, this.accessLogsBucket);
    this.reportsBucket = reconciliationBucket(
      this,
      'ReportsBucket',
      REPORTS_BUCKET,
      this.filesKey,
      this.accessLogsBucket,
    );
    NagSuppressions.addResourceSuppressions(this.sandboxSecret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          "The sandbox channel's HMAC secret signs test-money callbacks between the gateway and its own simulated " +
          'channel (both read this one secret), so a rotation Lambda would protect nothing; the Alipay / WeChat Pay ' +
          'secrets are not stack resources: the channel CLI rotates them when the channel operator issues new keys.',
      },
    ]);
    NagSuppressions.addResourceSuppressions(this.relayUndeliverable, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          "This queue is itself the relay failure queue's dead-letter queue (the re-drive's final place, alarmed); " +
          'a dead-letter queue of a dead-letter queue would only move the same records once more.',
      },
    ]);
  }
}

/**
 * The shared definition's visibility timeout, raised if needed to six times the `Notify` function's timeout: a
 * message that becomes visible again while its first consumer is still delivering it is delivered twice.
 */
function notifyVisibilityTimeout(): Duration {
  const seconds = Math.max(
    NOTIFY_QUEUE.visibilityTimeoutSeconds,
    VISIBILITY_TO_FUNCTION_TIMEOUT * functionTimeout('Notify').toSeconds(),
  );
  return Duration.seconds(seconds);
}

/** The shared definition's visibility timeout, raised if needed above the `RelayRedrive` function's timeout. */
function relayFailuresVisibilityTimeout(): Duration {
  return Duration.seconds(
    Math.max(RELAY_FAILURES.visibilityTimeoutSeconds, functionTimeout('RelayRedrive').toSeconds() + 60),
  );
}

/** The table, built from the same `TABLE_DEFINITION` the local stack creates its table from. */
function gatewayTable(scope: Construct, encryptionKey: Key): Table {
  const def = TABLE_DEFINITION;
  const table = new Table(scope, 'Table', {
    partitionKey: { name: def.partitionKey, type: AttributeType.STRING },
    sortKey: { name: def.sortKey, type: AttributeType.STRING },
    timeToLiveAttribute: def.timeToLiveAttribute,
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.CUSTOMER_MANAGED,
    encryptionKey,
    // The outbox relay reads committed events (and new pending payments) from the stream, filtering on NewImage.
    stream: StreamViewType[def.stream],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const index of def.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
      sortKey: { name: index.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType[index.projection],
    });
  }
  return table;
}
