import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local.ts';
import { LocalGateway } from './gateway.ts';
import { createBuckets, LOCAL_BUCKETS, type LocalS3, startLocalS3 } from './s3.ts';
import { createQueues, type LocalSqs, localQueueUrls, type QueueUrls, startLocalSqs } from './sqs.ts';
import { createGatewayTable } from './tables.ts';

export const LOCAL_TABLE = 'pay-gateway-local';

/** Secrets of the local stack, generated once and kept under `.local/` (git-ignored), never in code. */
export interface LocalSecrets {
  masterKey: string;
  sandboxSecret: string;
}

/** Reads `.local/secrets.json`, creating it with fresh random secrets on the first run. */
export function loadLocalSecrets(dir: string): LocalSecrets {
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
  mkdirSync(dir, { recursive: true });
  const secrets = {
    masterKey: randomBytes(32).toString('base64'),
    sandboxSecret: `sbx_${randomBytes(24).toString('hex')}`,
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** Where the local SQS and S3 endpoints are, for {@link configureLocalServices}. */
export interface LocalServiceEndpoints {
  /** Local SQS; sets AWS_ENDPOINT_URL_SQS and the queue URLs. */
  sqsEndpoint?: string;
  /** The queues to use; by default the unsuffixed queues `createQueues` makes on `sqsEndpoint`. */
  queueUrls?: QueueUrls;
  /** Local S3; sets AWS_ENDPOINT_URL_S3 and the bills and reports bucket names. */
  s3Endpoint?: string;
  /** The buckets to use; by default the local buckets `LOCAL_BUCKETS` (which `startLocalStack` creates). */
  buckets?: { bills: string; reports: string };
}

/**
 * Points this process's SQS and S3 clients at local endpoints and sets the queue URLs and bucket names the CDK stack
 * would set on AWS (Step Functions run in process, handed to the container as its `Workflows`). Only what is given is
 * set, so a test file can add its own queues after the worker-wide configuration.
 */
export function configureLocalServices(options: LocalServiceEndpoints): void {
  if (options.sqsEndpoint) {
    const urls = options.queueUrls ?? localQueueUrls(options.sqsEndpoint);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SQS: options.sqsEndpoint,
      NOTIFY_QUEUE_URL: urls.notifyQueueUrl,
      NOTIFY_DLQ_URL: urls.notifyDlqUrl,
      RELAY_FAILURE_QUEUE_URL: urls.relayFailuresUrl,
      RELAY_UNDELIVERABLE_QUEUE_URL: urls.relayUndeliverableUrl,
    });
  }
  if (options.s3Endpoint) {
    const buckets = options.buckets ?? LOCAL_BUCKETS;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: options.s3Endpoint,
      BILLS_BUCKET: buckets.bills,
      REPORTS_BUCKET: buckets.reports,
      // s3rver stores an upload's bytes as sent: a streamed body in the SDK's default `aws-chunked` framing (checksum
      // trailer) would be stored framing and all. Checksums only where S3 requires them; known-length bodies are
      // unaffected either way.
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    });
  }
}

/**
 * Points this process's AWS SDK clients and handlers at a local DynamoDB (and, when given, local SQS, Step Functions
 * and S3) and sets the configuration the CDK stack would set on AWS. Must run before the first handler is invoked
 * (the container reads it once).
 */
export function configureLocalEnvironment(
  options: {
    dynamoEndpoint: string;
    publicBaseUrl: string;
    secrets: LocalSecrets;
    tableName?: string;
  } & LocalServiceEndpoints,
): void {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: options.dynamoEndpoint,
    // DynamoDB Local serves the Streams API on the same port (the relay re-drive reads skipped batches back).
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: options.dynamoEndpoint,
    TABLE_NAME: options.tableName ?? LOCAL_TABLE,
    PUBLIC_BASE_URL: options.publicBaseUrl,
    LOCAL_MASTER_KEY: options.secrets.masterKey,
    SANDBOX_SECRET: options.secrets.sandboxSecret,
    ALLOW_LOOPBACK_HTTP: 'true',
    SANDBOX_ENABLED: 'true',
    // GSI3's 1,024 shards would make every local minute sweep query DynamoDB Local 1,024 times (keys.ts).
    EXPIRY_SHARD_CAP: '4',
    POWERTOOLS_SERVICE_NAME: 'pay-gateway',
    POWERTOOLS_METRICS_NAMESPACE: 'PayGateway',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Node 20 here, nodejs22.x on Lambda: the SDK's Node-version notice is known and only noise locally.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
  configureLocalServices(options);
}

/** No local stack is running (or it does not answer): the CLIs say so instead of a network error. */
export class StackNotRunningError extends Error {
  constructor() {
    super('the local stack is not running: start it with `npm start` (or set TABLE_NAME to target AWS)');
  }
}

/**
 * Points this process (a CLI) at the stack `npm start` is running, from `.local/stack.json`; fails clearly if none is.
 */
export function connectToRunningStack(localDir: string): void {
  const stackFile = join(localDir, 'stack.json');
  if (!existsSync(stackFile)) throw new StackNotRunningError();
  const stack = JSON.parse(readFileSync(stackFile, 'utf8')) as {
    api_base: string;
    dynamodb_endpoint: string;
    s3_endpoint?: string;
  };
  configureLocalEnvironment({
    dynamoEndpoint: stack.dynamodb_endpoint,
    publicBaseUrl: stack.api_base,
    secrets: loadLocalSecrets(localDir),
    s3Endpoint: stack.s3_endpoint,
  });
}

export interface RunningStack {
  apiBase: string;
  dynamo: DynamoDbLocal;
  sqs: LocalSqs;
  queueUrls: QueueUrls;
  /** Local S3, with the bills and reports buckets (`LOCAL_BUCKETS`). */
  s3: LocalS3;
  gateway: LocalGateway;
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local, local SQS and local S3, creates the table (with its stream), the queues and the bills and
 * reports buckets, and serves the API on
 * `port` (0 = any free port). The consumers are wired by the caller from the building blocks: `pollQueue`
 * (`sqs-poller.ts`), `pollTableStream` (`stream-poller.ts`) and `LocalStepFunctions` (`local-workflows.ts`, handed to
 * the container with `setContainerOverrides`).
 */
export async function startLocalStack(options: {
  projectRoot: string;
  port: number;
  secrets: LocalSecrets;
  dynamo?: DynamoDbLocal;
  /** Where DynamoDB Local keeps its data (it survives restarts); in memory when absent. */
  dbPath?: string;
}): Promise<RunningStack> {
  const dynamo = options.dynamo ?? (await startDynamoDbLocal({ dbPath: options.dbPath }));
  const gateway = new LocalGateway(options.projectRoot);
  let sqs: LocalSqs | undefined;
  let s3: LocalS3 | undefined;
  const stopAll = async () => {
    await gateway.close();
    await sqs?.stop();
    await s3?.stop();
    if (!options.dynamo) await dynamo.stop();
  };
  try {
    sqs = await startLocalSqs();
    s3 = await startLocalS3();
    const apiBase = await gateway.listen(options.port);
    configureLocalEnvironment({
      dynamoEndpoint: dynamo.endpoint,
      publicBaseUrl: apiBase,
      secrets: options.secrets,
      sqsEndpoint: sqs.endpoint,
      s3Endpoint: s3.endpoint,
    });
    const client = new DynamoDBClient({});
    await createGatewayTable(client, LOCAL_TABLE);
    client.destroy();
    const sqsClient = new SQSClient({});
    const queueUrls = await createQueues(sqsClient);
    sqsClient.destroy();
    const s3Client = new S3Client({ forcePathStyle: true });
    await createBuckets(s3Client, Object.values(LOCAL_BUCKETS));
    s3Client.destroy();
    return { apiBase, dynamo, sqs, queueUrls, s3, gateway, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
