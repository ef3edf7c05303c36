import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { setContainerOverrides } from '#adapters/container.ts';
import { RELAY_RETRY_ATTEMPTS, STATE_MACHINES } from '#adapters/queue-definitions.ts';
import { logger } from '#shared/observability.ts';
import { handler as expireBucket } from '../functions/expire-bucket.ts';
import { handler as notify } from '../functions/notify.ts';
import { handler as notifyAttempt } from '../functions/notify-attempt.ts';
import { handler as notifyFailed } from '../functions/notify-failed.ts';
import { handler as outboxRelay } from '../functions/outbox-relay.ts';
import { handler as relayRedrive } from '../functions/relay-redrive.ts';
import { invokeLocally } from './lambda-context.ts';
import { LocalStepFunctions } from './local-workflows.ts';
import { pollQueue } from './sqs-poller.ts';
import { configureLocalServices, LOCAL_TABLE, type RunningStack } from './stack.ts';
import { pollTableStream } from './stream-poller.ts';

/** How often the local stack re-drives relay failures: every 5 minutes, like the deployed schedule. */
const DEFAULT_REDRIVE_EVERY_MS = 300_000;

/** Options of {@link startLocalWorkers}. */
export interface LocalWorkersOptions {
  /** How often `RelayRedrive` runs (default: env `RELAY_REDRIVE_EVERY_MS`, else every 5 minutes). */
  redriveEveryMs?: number;
}

/**
 * The asynchronous half of `npm start`: the same handlers the CDK stack deploys, driven like their event sources —
 * the table stream into the outbox relay (a batch still failing after `RELAY_RETRY_ATTEMPTS` retries is recorded in
 * the relay failure queue, as the deployed mapping's on-failure destination does), the relay re-drive on its
 * schedule, the notify queue into the notify consumer, and the notify-retry and order-expiry state machines (the
 * shared ASL files) run in this process behind the gateway's `Workflows` port.
 */
export async function startLocalWorkers(
  stack: RunningStack,
  options: LocalWorkersOptions = {},
): Promise<{ stop(): Promise<void> }> {
  const sfn = new LocalStepFunctions([
    {
      ...STATE_MACHINES.notifyRetry,
      tasks: { NotifyAttemptFunctionArn: notifyAttempt, NotifyFailedFunctionArn: notifyFailed },
    },
    { ...STATE_MACHINES.orderExpiry, tasks: { ExpireBucketFunctionArn: expireBucket } },
  ]);
  setContainerOverrides({ workflows: sfn.workflows });
  configureLocalServices({ sqsEndpoint: stack.sqs.endpoint, queueUrls: stack.queueUrls });
  const sqs = new SQSClient({});
  const notifications = pollQueue({ client: sqs, queueUrl: stack.queueUrls.notifyQueueUrl, handler: notify });
  const relay = await pollTableStream({
    endpoint: stack.dynamo.endpoint,
    tableName: LOCAL_TABLE,
    handler: outboxRelay,
    startingPosition: 'TRIM_HORIZON',
    onFailure: {
      retryAttempts: RELAY_RETRY_ATTEMPTS,
      record: async (failure) => {
        await sqs.send(
          new SendMessageCommand({ QueueUrl: stack.queueUrls.relayFailuresUrl, MessageBody: JSON.stringify(failure) }),
        );
      },
    },
  });
  const everyMs = options.redriveEveryMs ?? (Number(process.env.RELAY_REDRIVE_EVERY_MS) || DEFAULT_REDRIVE_EVERY_MS);
  const redrive = setInterval(() => {
    invokeLocally('RelayRedrive', relayRedrive, { 'detail-type': 'Scheduled Event' }).catch((error: unknown) =>
      logger.error('local RelayRedrive failed', { error }),
    );
  }, everyMs);
  redrive.unref();
  return {
    async stop() {
      clearInterval(redrive);
      await relay.stop();
      await notifications.stop();
      await sfn.stop();
      sqs.destroy();
    },
  };
}
