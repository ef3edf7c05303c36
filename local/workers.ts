import { SQSClient } from '@aws-sdk/client-sqs';
import { STATE_MACHINES } from '#adapters/queue-definitions.ts';
import { handler as expireBucket } from '../functions/expire-bucket.ts';
import { handler as notify } from '../functions/notify.ts';
import { handler as notifyAttempt } from '../functions/notify-attempt.ts';
import { handler as notifyFailed } from '../functions/notify-failed.ts';
import { handler as outboxRelay } from '../functions/outbox-relay.ts';
import { pollQueue } from './sqs-poller.ts';
import { configureLocalServices, LOCAL_TABLE, type RunningStack } from './stack.ts';
import { localStateMachine, startLocalStepFunctions } from './stepfunctions.ts';
import { pollTableStream } from './stream-poller.ts';

/**
 * The asynchronous half of `npm start`: the same handlers the CDK stack deploys, driven like their event sources —
 * the table stream into the outbox relay, the notify queue into the notify consumer, and the notify-retry and
 * order-expiry state machines (the shared ASL files) on a local Step Functions endpoint.
 */
export async function startLocalWorkers(stack: RunningStack, projectRoot: string): Promise<{ stop(): Promise<void> }> {
  const sfn = await startLocalStepFunctions({
    projectRoot,
    stateMachines: [
      localStateMachine(STATE_MACHINES.notifyRetry, {
        NotifyAttemptFunctionArn: notifyAttempt,
        NotifyFailedFunctionArn: notifyFailed,
      }),
      localStateMachine(STATE_MACHINES.orderExpiry, { ExpireBucketFunctionArn: expireBucket }),
    ],
  });
  configureLocalServices({ sqsEndpoint: stack.sqs.endpoint, queueUrls: stack.queueUrls, sfnEndpoint: sfn.endpoint });
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
