import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import { inject } from 'vitest';
import { setContainerOverrides } from '#adapters/container.ts';
import { type LocalStateMachine, LocalStepFunctions } from '../../local/local-workflows.ts';
import type { Poller } from '../../local/poll-loop.ts';
import { createQueues, type QueueUrls } from '../../local/sqs.ts';
import { pollQueue, type SqsLambdaHandler } from '../../local/sqs-poller.ts';
import { configureLocalServices } from '../../local/stack.ts';
import { pollTableStream, type StreamBatchFailureRecord, type StreamLambdaHandler } from '../../local/stream-poller.ts';
import { TEST_TABLE, TEST_VISIBILITY_TIMEOUT_SECONDS, TEST_WAIT_TIME_SCALE } from './constants.ts';

/** Options of {@link startLocalWorkflows}. */
export interface LocalWorkflowsOptions {
  /** Consumes this file's notify queue, like the `Notify` function's event source mapping. */
  notifyHandler?: SqsLambdaHandler;
  /** Consumes the test table's stream (from the moment it starts), like the outbox relay's event source mapping. */
  streamHandler?: StreamLambdaHandler;
  /**
   * Like the deployed mapping: a stream batch still failing after this many retries is recorded in this file's relay
   * failure queue and skipped (without it, a failing batch is retried until it succeeds).
   */
  streamRetryAttempts?: number;
  /** Drops stream records before the handler sees them: other files write to the same table concurrently. */
  streamFilter?: (record: DynamoDBRecord) => boolean;
  /** State machines to run in this worker, behind every container's `workflows` (none: the AWS adapter stays). */
  stateMachines?: LocalStateMachine[];
  /** Their wait-time scale (`TEST_WAIT_TIME_SCALE` by default). */
  waitTimeScale?: number;
  /** Visibility timeout of this file's notify queue: a failed message comes back after it. */
  visibilityTimeoutSeconds?: number;
  /** Poller failures, including handler errors (silent by default: tests assert on outcomes instead). */
  onError?: (error: unknown) => void;
}

/** What {@link startLocalWorkflows} started. */
export interface LocalWorkflows {
  /** This file's own queues (unique names on the run's shared SQS server). */
  queueUrls: QueueUrls;
  /** An SQS client for the run's SQS server. */
  sqs: SQSClient;
  /** The in-process Step Functions, when state machines were given. */
  sfn?: LocalStepFunctions;
  /** Stops the pollers and the executions, deletes the queues, and restores the environment it changed. */
  stop(): Promise<void>;
}

const SERVICE_VARIABLES = [
  'AWS_ENDPOINT_URL_SQS',
  'NOTIFY_QUEUE_URL',
  'NOTIFY_DLQ_URL',
  'RELAY_FAILURE_QUEUE_URL',
  'RELAY_UNDELIVERABLE_QUEUE_URL',
] as const;

/**
 * The asynchronous half of the local stack for one test file: its own notify queues on the run's SQS server (two
 * workers share that server, so names get a random suffix), optional state machines run in this worker (handed to
 * every container created afterwards), and pollers that invoke the given handlers like Lambda event source mappings.
 * Points this process's SQS settings at them, so call it before creating a container that reads them.
 */
export async function startLocalWorkflows(options: LocalWorkflowsOptions = {}): Promise<LocalWorkflows> {
  const sqsEndpoint = inject('sqsEndpoint');
  const onError = options.onError ?? (() => undefined);
  const previousEnv = Object.fromEntries(SERVICE_VARIABLES.map((name) => [name, process.env[name]]));
  const sqs = new SQSClient({
    endpoint: sqsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const pollers: Poller[] = [];
  let sfn: LocalStepFunctions | undefined;
  let queueUrls: QueueUrls | undefined;

  const stop = async () => {
    await Promise.all(pollers.map((poller) => poller.stop()));
    await sfn?.stop();
    if (sfn) setContainerOverrides({});
    if (queueUrls) {
      for (const url of Object.values(queueUrls)) {
        await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
      }
    }
    sqs.destroy();
    for (const [name, value] of Object.entries(previousEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };

  try {
    queueUrls = await createQueues(sqs, {
      suffix: `-${randomBytes(5).toString('hex')}`,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? TEST_VISIBILITY_TIMEOUT_SECONDS,
    });
    if (options.stateMachines?.length) {
      sfn = new LocalStepFunctions(options.stateMachines, options.waitTimeScale ?? TEST_WAIT_TIME_SCALE);
      setContainerOverrides({ workflows: sfn.workflows });
    }
    configureLocalServices({ sqsEndpoint, queueUrls });
    if (options.notifyHandler) {
      pollers.push(
        pollQueue({ client: sqs, queueUrl: queueUrls.notifyQueueUrl, handler: options.notifyHandler, onError }),
      );
    }
    if (options.streamHandler) {
      pollers.push(
        await pollTableStream({
          endpoint: inject('dynamoEndpoint'),
          tableName: process.env.TABLE_NAME ?? TEST_TABLE,
          handler: options.streamHandler,
          filter: options.streamFilter,
          onError,
          ...(options.streamRetryAttempts === undefined
            ? {}
            : { onFailure: { retryAttempts: options.streamRetryAttempts, record: recordIn(sqs, queueUrls) } }),
        }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { queueUrls, sqs, sfn, stop };
}

/** Sends a skipped batch's failure record to the relay failure queue, as the mapping's on-failure destination does. */
function recordIn(sqs: SQSClient, queueUrls: QueueUrls) {
  return async (failure: StreamBatchFailureRecord) => {
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrls.relayFailuresUrl, MessageBody: JSON.stringify(failure) }),
    );
  };
}

/** Polls `check` until it returns a value other than `undefined`/`false`, or fails after `timeoutMs` (generous: a busy machine). */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 60_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
