import type { Server } from 'node:http';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import {
  NOTIFY_DLQ,
  NOTIFY_QUEUE,
  NOTIFY_REDRIVE,
  type QueueDefinition,
  RELAY_FAILURES,
  RELAY_REDRIVE,
  RELAY_UNDELIVERABLE,
  type RedriveDefinition,
} from '#adapters/queue-definitions.ts';

/** The account id every local emulator puts in its ARNs and URLs (the local gateway's Lambda contexts use it too). */
export const LOCAL_ACCOUNT_ID = '000000000000';
/** The region of the local stack (what `configureLocalEnvironment` sets as AWS_REGION). */
export const LOCAL_REGION = 'us-east-1';

/** A running local SQS (`local-aws-sqs`, in this process, speaking the real SQS JSON and query protocols). */
export interface LocalSqs {
  /** `http://127.0.0.1:<port>`: what AWS_ENDPOINT_URL_SQS (or a client's `endpoint`) must point at. */
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts local SQS on 127.0.0.1, on a free port unless `port` is given. */
export async function startLocalSqs(options: { port?: number } = {}): Promise<LocalSqs> {
  const server: Server = await createSqsServer({
    port: options.port ?? 0,
    // The queue URLs it hands out are built from this host, so they are reachable exactly where the server listens.
    hostname: '127.0.0.1',
    accountId: LOCAL_ACCOUNT_ID,
    region: LOCAL_REGION,
    // Tests delete and recreate queues freely; AWS's 60-second wait before reusing a name would only slow them down.
    emulateQueueCreationLifecycle: false,
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('local SQS has no address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    async stop() {
      // Long-polling ReceiveMessage calls hold their connections open; cut them so close() returns at once.
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** The URLs of the gateway's queues. */
export interface QueueUrls {
  notifyQueueUrl: string;
  notifyDlqUrl: string;
  /** The outbox relay's failure queue (skipped stream batches, re-driven on schedule). */
  relayFailuresUrl: string;
  /** Where a batch still undeliverable after its last re-drive ends (the deployed stack alarms on it). */
  relayUndeliverableUrl: string;
}

/** Per-caller variations of the queues, for tests that share one SQS server. */
export interface CreateQueuesOptions {
  /** Appended to every queue name (letters, digits, `-`, `_`), so parallel test files get their own queues. */
  suffix?: string;
  /** Overrides the notify queue's visibility timeout, so a test sees a failed message again within a second. */
  visibilityTimeoutSeconds?: number;
}

/** The local URL of a queue: `local-aws-sqs` builds it as `<endpoint>/<account>/<name>`. */
export function localQueueUrl(endpoint: string, queueName: string): string {
  return `${endpoint.replace(/\/+$/, '')}/${LOCAL_ACCOUNT_ID}/${queueName}`;
}

/** The local URLs `createQueues` returns for the same `suffix`, without asking the server. */
export function localQueueUrls(endpoint: string, suffix = ''): QueueUrls {
  return {
    notifyQueueUrl: localQueueUrl(endpoint, `${NOTIFY_QUEUE.name}${suffix}`),
    notifyDlqUrl: localQueueUrl(endpoint, `${NOTIFY_DLQ.name}${suffix}`),
    relayFailuresUrl: localQueueUrl(endpoint, `${RELAY_FAILURES.name}${suffix}`),
    relayUndeliverableUrl: localQueueUrl(endpoint, `${RELAY_UNDELIVERABLE.name}${suffix}`),
  };
}

/**
 * Creates the notify queue and the relay failure queue, each with its dead-letter queue and redrive policy, from the
 * shared definitions. Idempotent: an existing queue keeps its URL and gets the definition's attributes.
 */
export async function createQueues(client: SQSClient, options: CreateQueuesOptions = {}): Promise<QueueUrls> {
  const suffix = options.suffix ?? '';
  if (!/^[\w-]*$/.test(suffix)) throw new Error(`invalid queue name suffix: ${suffix}`);
  const notify = await ensureRedrivenQueue(client, NOTIFY_REDRIVE, suffix, {
    ...NOTIFY_QUEUE,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? NOTIFY_QUEUE.visibilityTimeoutSeconds,
  });
  const relay = await ensureRedrivenQueue(client, RELAY_REDRIVE, suffix, RELAY_FAILURES);
  return {
    notifyQueueUrl: notify.sourceUrl,
    notifyDlqUrl: notify.deadLetterUrl,
    relayFailuresUrl: relay.sourceUrl,
    relayUndeliverableUrl: relay.deadLetterUrl,
  };
}

/** A redrive definition's two queues; the dead-letter queue first (SQS rejects a policy whose target is missing). */
async function ensureRedrivenQueue(
  client: SQSClient,
  redrive: RedriveDefinition,
  suffix: string,
  source: QueueDefinition,
): Promise<{ sourceUrl: string; deadLetterUrl: string }> {
  const deadLetterUrl = await ensureQueue(
    client,
    `${redrive.deadLetterQueue.name}${suffix}`,
    queueAttributes(redrive.deadLetterQueue),
  );
  const dlq = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ['QueueArn'] }),
  );
  const dlqArn = dlq.Attributes?.QueueArn;
  if (!dlqArn) throw new Error(`no ARN for queue ${deadLetterUrl}`);
  const sourceUrl = await ensureQueue(client, `${source.name}${suffix}`, {
    ...queueAttributes(source),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: redrive.maxReceiveCount }),
  });
  return { sourceUrl, deadLetterUrl };
}

function queueAttributes(definition: QueueDefinition): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (definition.visibilityTimeoutSeconds !== undefined) {
    attributes.VisibilityTimeout = String(definition.visibilityTimeoutSeconds);
  }
  if (definition.retentionDays !== undefined) {
    attributes.MessageRetentionPeriod = String(definition.retentionDays * 24 * 60 * 60);
  }
  return attributes;
}

async function ensureQueue(client: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const created = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!created.QueueUrl) throw new Error(`CreateQueue returned no URL for ${name}`);
    return created.QueueUrl;
  } catch (error) {
    // Same name, different attributes (an older definition): keep the queue and bring its attributes up to date.
    if (!(error instanceof QueueNameExists)) throw error;
    const existing = await client.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!existing.QueueUrl) throw new Error(`GetQueueUrl returned no URL for ${name}`);
    await client.send(new SetQueueAttributesCommand({ QueueUrl: existing.QueueUrl, Attributes: attributes }));
    return existing.QueueUrl;
  }
}
