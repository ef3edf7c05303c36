import { join } from 'node:path';
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { FunctionSpec } from '#routes';
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
    ...(access.sandboxSecret ? { SANDBOX_SECRET_ARN: data.sandboxSecret.secretArn } : {}),
    ...(access.notifyQueue ? { NOTIFY_QUEUE_URL: data.notifyQueue.queueUrl } : {}),
    ...(access.notifyDeadLetters ? { NOTIFY_DLQ_URL: data.notifyDeadLetters.queueUrl } : {}),
    ...(access.startNotifyRetry
      ? {
          NOTIFY_RETRY_STATE_MACHINE_ARN: stateMachine(id, context, 'notifyRetry').stateMachineArn,
          NOTIFY_RETRY_SCHEDULE: context.notifyRetry.schedule,
          NOTIFY_RETRY_JITTER: context.notifyRetry.jitter,
        }
      : {}),
    ...(access.startOrderExpiry
      ? { ORDER_EXPIRY_STATE_MACHINE_ARN: stateMachine(id, context, 'orderExpiry').stateMachineArn }
      : {}),
    ...(access.billsRead ? { BILLS_BUCKET: data.billsBucket.bucketName } : {}),
    ...(access.reportsRead || access.reportsWrite ? { REPORTS_BUCKET: data.reportsBucket.bucketName } : {}),
    // Only a report reader decides who may read the gateway-wide reports.
    ...(access.reportsRead ? { FINANCE_MERCHANT_IDS: context.financeMerchantIds } : {}),
  };
}

/**
 * Grants exactly the declared access (least privilege). Merchant secrets are created and rotated from the merchant
 * CLI, never from a Lambda, so no function is granted `kms:Encrypt`.
 */
export function grantAccess(fn: IFunction, id: string, access: FunctionAccess, context: FunctionContext): void {
  const { data } = context;
  if (access.table === 'readwrite') data.table.grantReadWriteData(fn);
  else data.table.grantReadData(fn);
  if (access.merchantKey === 'decrypt') data.merchantKey.grantDecrypt(fn);
  if (access.sandboxSecret) data.sandboxSecret.grantRead(fn);
  if (access.notifyQueue) data.notifyQueue.grantSendMessages(fn);
  if (access.notifyDeadLetters) data.notifyDeadLetters.grantSendMessages(fn);
  if (access.startNotifyRetry) stateMachine(id, context, 'notifyRetry').grantStartExecution(fn);
  if (access.startOrderExpiry) stateMachine(id, context, 'orderExpiry').grantStartExecution(fn);
  if (access.channelSecrets) grantChannelSecretsRead(fn, data);
  // The buckets' grants include the files key: kms:Decrypt to read, kms:GenerateDataKey/Encrypt to write (SSE-KMS).
  // A presigned report URL is signed with the function's credentials, so presigning needs GetObject itself.
  if (access.billsRead) data.billsBucket.grantRead(fn);
  if (access.reportsRead) data.reportsBucket.grantRead(fn);
  if (access.reportsWrite) data.reportsBucket.grantPut(fn);
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
}

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
    environment: accessEnvironment(spec.id, spec.access, context),
  });
  grantAccess(fn, spec.id, spec.access, context);
  return fn;
}

function stateMachine(id: string, context: FunctionContext, name: keyof GatewayStateMachines): IStateMachine {
  const machine = context.stateMachines?.[name];
  if (!machine) {
    throw new Error(`${id} starts ${name}, but it is a state machine task, created before the state machines exist`);
  }
  return machine;
}
