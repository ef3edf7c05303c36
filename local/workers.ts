import { SQSClient } from '@aws-sdk/client-sqs';
import { setContainerOverrides } from '#adapters/container.ts';
import { STATE_MACHINES } from '#adapters/queue-definitions.ts';
import { handler as expireBucket } from '../functions/expire-bucket.ts';
import { handler as notify } from '../functions/notify.ts';
import { handler as notifyAttempt } from '../functions/notify-attempt.ts';
import { handler as notifyFailed } from '../functions/notify-failed.ts';
import { handler as outboxRelay } from '../functions/outbox-relay.ts';
import { LocalStepFunctions } from './local-workflows.ts';
import { pollQueue } from './sqs-poller.ts';
import { configureLocalServices, LOCAL_TABLE, type RunningStack } from './stack.ts';
import { pollTableStream } from './stream-poller.ts';

/**
 * The asynchronous half of `npm start`: the same handlers the CDK stack deploys, driven like their event sources —
 * the table stream into the outbox relay, the notify queue into the notify consumer, and the notify-retry and
 * order-expiry state machines (the shared ASL files) run in this process behind the gateway's `Workflows` port.
 */
export async function startLocalWorkers(stack: RunningStack): Promise<{ stop(): Promise<void> }> {
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
  });
  return {
    async stop() {
      await relay.stop();
      await notifications.stop();
      await sfn.stop();
      sqs.destroy();
    },
  };
}
