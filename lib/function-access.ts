/**
 * Turns each function's declared access (src/routes.ts) into least-privilege IAM statements and the cdk-nag
 * suppressions that must name them: long because every grant and its justification live side by side.
 */
import { join } from 'node:path';
import { ArnFormat, type CfnElement, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { type IStateMachine, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { STATE_MACHINES } from '#adapters/queue-definitions.ts';
import { BILLS_BUCKET, REPORTS_BUCKET } from '#domain/buckets.ts';
import type { FunctionSpec, TableAccess, TableAction } from '#routes';
import { CHANNEL_SECRETS_PREFIX, type GatewayData } from './gateway-data.ts';
import { GatewayFunction } from './gateway-function.ts';
import { functionMemory, functionTimeout, type NotifyRetrySettings } from './worker-settings.ts';

/** A function's declared access (`FunctionSpec.access`, shared by the HTTP functions and the workers). */
export type FunctionAccess = FunctionSpec['access'];

/** The gateway's workflows, by the access flag that starts them. */
export interface GatewayStateMachines {
  readonly notifyRetry: IStateMachine;
  readonly orderExpiry: IStateMachine;
}

/** What every function is built from: the resources it may be granted and the settings it is configured with. */
export interface FunctionContext {
  /** Absolute path of the project root: `FunctionSpec.entry` paths are relative to it. */
  readonly projectRoot: string;
  /** The stateful resources. */
  readonly data: GatewayData;
  /**
   * The workflows, once they exist: their task functions are created before them (a state machine names its tasks'
   * ARNs), so a task function cannot be granted to start a workflow.
   */
  readonly stateMachines?: GatewayStateMachines;
  /** The API's base URL (every function's `PUBLIC_BASE_URL`). */
  readonly publicBaseUrl: string;
  /** Enables the sandbox channel (test environments only). */
  readonly sandboxEnabled: boolean;
  /** The notification retry schedule, for the functions that start `notify-retry` (they compute its waits). */
  readonly notifyRetry: NotifyRetrySettings;
  /**
   * Merchants allowed to read the gateway-wide reconciliation reports (`FINANCE_MERCHANT_IDS`, comma-separated),
   * given to the functions that read reports; empty by default (nobody).
   */
  readonly financeMerchantIds: string;
}

/**
 * The environment a function gets from its declared access: it names a key, secret, queue or workflow only if the
 * function may use it, so a missing grant fails at cold start with "this function has no …" instead of AccessDenied.
 * `channelSecrets` adds nothing: `SecretsManagerChannelSecrets` reads the secret its channel profile names and no
 * variable, so a function without the grant fails at the channel's first use with AccessDenied.
 */
export function accessEnvironment(
  scope: Construct,
  id: string,
  access: FunctionAccess,
  context: FunctionContext,
): Record<string, string> {
  const { data } = context;
  return {
    TABLE_NAME: data.table.tableName,
    PUBLIC_BASE_URL: context.publicBaseUrl,
    SANDBOX_ENABLED: String(context.sandboxEnabled),
    ...(access.merchantKey === 'decrypt' ? { MERCHANT_KEY_ID: data.merchantKey.keyId } : {}),
    ...(usesSandboxSecret(access, context) ? { SANDBOX_SECRET_ARN: data.sandboxSecret.secretArn } : {}),
    ...(access.notifyQueue ? { NOTIFY_QUEUE_URL: data.notifyQueue.queueUrl } : {}),
    ...(access.notifyDeadLetters ? { NOTIFY_DLQ_URL: data.notifyDeadLetters.queueUrl } : {}),
    ...(access.startNotifyRetry
      ? {
          NOTIFY_RETRY_STATE_MACHINE_ARN: stateMachine(scope, id, context, 'notifyRetry').stateMachineArn,
          NOTIFY_RETRY_SCHEDULE: context.notifyRetry.schedule,
          NOTIFY_RETRY_JITTER: context.notifyRetry.jitter,
        }
      : {}),
    ...(access.startOrderExpiry
      ? { ORDER_EXPIRY_STATE_MACHINE_ARN: stateMachine(scope, id, context, 'orderExpiry').stateMachineArn }
      : {}),
    ...(access.relayFailures
      ? {
          RELAY_FAILURE_QUEUE_URL: data.relayFailures.queueUrl,
          RELAY_UNDELIVERABLE_QUEUE_URL: data.relayUndeliverable.queueUrl,
        }
      : {}),
    ...(access.billsRead || access.billsWrite ? { BILLS_BUCKET: data.billsBucket.bucketName } : {}),
    ...(access.reportsRead || access.reportsWrite ? { REPORTS_BUCKET: data.reportsBucket.bucketName } : {}),
    // Only a report reader decides who may read the gateway-wide reports.
    ...(access.reportsRead ? { FINANCE_MERCHANT_IDS: context.financeMerchantIds } : {}),
  };
}

/** The sandbox secret signs only the sandbox channel's messages: a deployment without the sandbox grants it to nobody. */
function usesSandboxSecret(access: FunctionAccess, context: FunctionContext): boolean {
  return access.sandboxSecret && context.sandboxEnabled;
}

/**
 * Grants exactly the declared access (least privilege). Merchant secrets are created and rotated from the merchant
 * CLI, never from a Lambda, so no function is granted `kms:Encrypt`.
 */
export function grantAccess(fn: IFunction, id: string, access: FunctionAccess, context: FunctionContext): void {
  const scope = fn.node.scope ?? fn;
  const { data } = context;
  grantTableAccess(fn, access.table, data);
  if (access.merchantKey === 'decrypt') data.merchantKey.grantDecrypt(fn);
  if (usesSandboxSecret(access, context)) data.sandboxSecret.grantRead(fn);
  if (access.notifyQueue) data.notifyQueue.grantSendMessages(fn);
  if (access.notifyDeadLetters) data.notifyDeadLetters.grantSendMessages(fn);
  if (access.startNotifyRetry) stateMachine(scope, id, context, 'notifyRetry').grantStartExecution(fn);
  if (access.startOrderExpiry) stateMachine(scope, id, context, 'orderExpiry').grantStartExecution(fn);
  if (access.channelSecrets) grantChannelSecretsRead(fn, data);
  if (access.relayFailures) grantRelayRedrive(fn, data);
  // A presigned report URL is signed with the function's credentials, so presigning needs GetObject itself.
  if (access.billsRead) grantFilesRead(fn, data.billsBucket, BILLS_BUCKET.keyPrefix, data);
  if (access.billsWrite) grantFilesWrite(fn, data.billsBucket, BILLS_BUCKET.keyPrefix, data);
  if (access.reportsRead) grantFilesRead(fn, data.reportsBucket, REPORTS_BUCKET.keyPrefix, data);
  if (access.reportsWrite) grantFilesWrite(fn, data.reportsBucket, REPORTS_BUCKET.keyPrefix, data);
}

/**
 * Reading a reconciliation bucket's files under `prefix` (e.g. `bills/`): `s3:GetObject` on those keys, and
 * `s3:ListBucket` of that prefix only — without it S3 answers a missing object with 403 instead of the 404 the
 * adapter treats as "no such bill / report". The files key decrypts through S3 only.
 */
function grantFilesRead(fn: IFunction, bucket: IBucket, prefix: string, data: GatewayData): void {
  fn.addToRolePolicy(
    new PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects(`${prefix}*`)] }),
  );
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
    }),
  );
  grantFilesKey(fn, ['kms:Decrypt'], data);
  suppressObjectWildcard(fn, bucket, prefix, 'reads');
}

/** Writing files under `prefix`: one `PutObject` per file (no multipart), so SSE-KMS needs `kms:GenerateDataKey`. */
function grantFilesWrite(fn: IFunction, bucket: IBucket, prefix: string, data: GatewayData): void {
  fn.addToRolePolicy(
    new PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${prefix}*`)] }),
  );
  grantFilesKey(fn, ['kms:GenerateDataKey'], data);
  suppressObjectWildcard(fn, bucket, prefix, 'writes');
}

function grantFilesKey(fn: IFunction, actions: string[], data: GatewayData): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      actions,
      resources: [data.filesKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(fn).region}.amazonaws.com` } },
    }),
  );
}

function suppressObjectWildcard(fn: IFunction, bucket: IBucket, prefix: string, verb: string): void {
  if (!fn.role) return;
  const bucketId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnElement);
  NagSuppressions.addResourceSuppressions(
    fn.role,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          `The function ${verb} reconciliation files, keyed per channel and day under ${prefix}, so the grant ` +
          `names that key prefix of this one bucket (${prefix}*), not single objects.`,
        appliesTo: [`Resource::<${bucketId}.Arn>/${prefix}*`],
      },
    ],
    true,
  );
}

/**
 * The relay re-drive: consuming the relay failure queue (receive, delete, and send a record back with its attempt
 * count and delay), parking a record in the final queue (send only), and reading the table's stream back (only the two
 * calls a known shard and sequence number need: no `DescribeStream`, no `ListStreams`). SQS-managed encryption needs
 * no key grant.
 */
function grantRelayRedrive(fn: IFunction, data: GatewayData): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:SendMessage'],
      resources: [data.relayFailures.queueArn],
    }),
  );
  fn.addToRolePolicy(
    new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [data.relayUndeliverable.queueArn] }),
  );
  const streamArn = data.table.tableStreamArn;
  if (!streamArn) throw new Error('the gateway table has no stream: the relay re-drive reads it');
  fn.addToRolePolicy(
    new PolicyStatement({ actions: ['dynamodb:GetShardIterator', 'dynamodb:GetRecords'], resources: [streamArn] }),
  );
}

/** Prefix of the partition keys of request nonces (`keys.nonce`): the only items a nonce claim may write. */
export const NONCE_PARTITION_PREFIX = 'NONCE#';
/** Prefix of the partition keys of rate-limit buckets (`keys.rateBucket`): the only items a token lease may update. */
export const RATE_BUCKET_PARTITION_PREFIX = 'RATE#';

const TABLE_WRITES: readonly TableAction[] = ['PutItem', 'UpdateItem', 'ConditionCheckItem'];
/** What CDK's `grantReadData` grants on a table's key; writes add CDK's write set without its wildcards. */
const KEY_READS = ['kms:Decrypt', 'kms:DescribeKey'];

/**
 * Exactly the DynamoDB actions a function's code path calls, on the table (and the indexes it queries), never `*`
 * actions, Scan, DeleteItem or BatchWriteItem; a nonce claim may put `NONCE#…` items only, a token lease update
 * `RATE#…` items only. The table's key is granted
 * as DynamoDB uses it on the caller's behalf (only through DynamoDB): `kms:Decrypt` to read, and to write also
 * encrypt and generate data keys — named actions rather than CDK's `GenerateDataKey*` / `ReEncrypt*` wildcards.
 */
export function grantTableAccess(fn: IFunction, table: TableAccess, data: GatewayData): void {
  const { actions, indexes = [], claimsNonces = false, leasesRateTokens = false } = table;
  if (actions.length > 0) {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: actions.map((action) => `dynamodb:${action}`), resources: [data.table.tableArn] }),
    );
  }
  if (indexes.length > 0) {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: indexes.map((index) => `${data.table.tableArn}/index/${index}`),
      }),
    );
  }
  if (claimsNonces && !actions.includes('PutItem')) {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [data.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${NONCE_PARTITION_PREFIX}*`] } },
      }),
    );
  }
  if (leasesRateTokens && !actions.includes('UpdateItem')) {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [data.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RATE_BUCKET_PARTITION_PREFIX}*`] } },
      }),
    );
  }
  const writes = claimsNonces || leasesRateTokens || actions.some((action) => TABLE_WRITES.includes(action));
  if (actions.length === 0 && indexes.length === 0 && !writes) return;
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: writes
        ? [...KEY_READS, 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo']
        : KEY_READS,
      resources: [data.dataKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(fn).region}.amazonaws.com` } },
    }),
  );
}

/**
 * Reading the Alipay / WeChat Pay account secrets. They are created by the channel CLI, not by the stack, so the grant
 * names their prefix: Secrets Manager appends `-` and six random characters to a secret's name in its ARN, so
 * `secret:pay-gateway/channels/*` is the documented way to name them (and only them). Powertools' `getSecret` calls
 * `GetSecretValue` only. The key may be used to decrypt only through Secrets Manager in this region, so the role
 * cannot decrypt anything else encrypted under it.
 */
export function grantChannelSecretsRead(fn: IFunction, data: GatewayData): void {
  const stack = Stack.of(fn);
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['secretsmanager:GetSecretValue'],
      resources: [channelSecretsArnPattern(stack)],
    }),
  );
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['kms:Decrypt'],
      resources: [data.channelSecretsKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
    }),
  );
  if (fn.role) {
    NagSuppressions.addResourceSuppressions(
      fn.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'GetSecretValue on the pay-gateway/channels/ name prefix: the channel CLI creates these secrets after ' +
            'the deploy and Secrets Manager appends six random characters to each ARN, so the prefix is the only ' +
            'way to name them (and only them).',
          appliesTo: [`Resource::${CHANNEL_SECRETS_ARN_TEXT}`],
        },
      ],
      true,
    );
  }
}

/** {@link channelSecretsArnPattern} as cdk-nag prints it. */
const CHANNEL_SECRETS_ARN_TEXT = `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${CHANNEL_SECRETS_PREFIX}*`;

/** `arn:<partition>:secretsmanager:<region>:<account>:secret:pay-gateway/channels/*`. */
export function channelSecretsArnPattern(stack: Stack): string {
  return stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${CHANNEL_SECRETS_PREFIX}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * A {@link GatewayFunction} for one `FUNCTIONS` or `WORKERS` entry, whose environment and grants both come from the
 * entry's `access`, so the two cannot disagree.
 */
export function gatewayFunctionFor(
  scope: Construct,
  spec: Pick<FunctionSpec, 'id' | 'entry' | 'access'>,
  context: FunctionContext,
): GatewayFunction {
  const fn = new GatewayFunction(scope, spec.id, {
    entry: join(context.projectRoot, spec.entry),
    projectRoot: context.projectRoot,
    timeout: functionTimeout(spec.id),
    memorySize: functionMemory(spec.id),
    environment: accessEnvironment(scope, spec.id, spec.access, context),
  });
  grantAccess(fn, spec.id, spec.access, context);
  return fn;
}

function stateMachine(
  scope: Construct,
  id: string,
  context: FunctionContext,
  name: keyof GatewayStateMachines,
): IStateMachine {
  const machine = context.stateMachines?.[name];
  if (machine) return machine;
  // A task that arms later runs of its own workflow (the minute timer postponing what it could not settle): the ARN
  // from the fixed name, since a reference to the machine that invokes this function would be a dependency cycle.
  const importId = `${id}${name}ByName`;
  const known = scope.node.tryFindChild(importId) as IStateMachine | undefined;
  return known ?? StateMachine.fromStateMachineName(scope, importId, STATE_MACHINES[name].name);
}
