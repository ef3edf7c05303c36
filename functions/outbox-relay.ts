import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { channelParts } from '#adapters/wiring/channels.ts';
import { dynamoParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { queueParts } from '#adapters/wiring/notify.ts';
import { workflowParts } from '#adapters/wiring/workflows.ts';
import { expirePayment } from '#app/expire-payments.ts';
import { syncRefund } from '#app/status-sync.ts';
import { bucketDeadline, expiryBucket } from '#domain/expiry.ts';
import { firstSyncAt } from '#domain/status-sync.ts';
import { workerHandler } from '#shared/worker-handler.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const base = dynamoParts(config, db);
  return { ...base, ...channelParts(base), ...queueParts(config), ...workflowParts(config) };
});

/**
 * The table's stream consumer — the outbox relay. Every committed outbox event reaches the notify queue from here,
 * so a handler that dies between its commit and any queue send loses nothing: the stream still holds the insert,
 * and a failed batch is retried from the failed record (partial batch failures).
 * It also arms the minute timer of each new pending payment's expiry and of each new processing refund's status sync.
 */
async function relay(record: DynamoDBRecord): Promise<void> {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  const container = wire();
  if (item.entity === 'EVENT') {
    await container.queues.enqueue(String(item.id), 'first');
  } else if (item.entity === 'PAYMENT' && item.status === 'PENDING') {
    // Normally the insert arrives long before its minute ends. If the stream lagged past that, the bucket's timer
    // may already have run (or be running) without this order: expire it directly — the close is conditional, so
    // racing the timer is harmless.
    if ((await armMinute(String(item.expiresAt))) === 'passed') await expirePayment(container, String(item.id));
  } else if (item.entity === 'REFUND' && item.status === 'PROCESSING' && item.GSI3PK) {
    // The status sync of a refund the channel has not settled by then (its minute timer; the same rule if late).
    if ((await armMinute(firstSyncAt(String(item.createdAt)))) === 'passed')
      await syncRefund(container, String(item.id));
  }
}

/** Arms the minute timer of `dueAt`; `passed` when that minute's timer may already have run. */
async function armMinute(dueAt: string): Promise<'armed' | 'passed'> {
  const container = wire();
  const bucket = expiryBucket(dueAt);
  if (container.clock().getTime() >= Date.parse(bucketDeadline(bucket))) return 'passed';
  return container.workflows.armExpiry(bucket);
}

export const handler = workerHandler((event: DynamoDBStreamEvent, context) =>
  // A processor per invocation: its state is the batch's, and Powertools keeps it per invocation (where
  // invocations run concurrently: Lambda Managed Instances, the local stack) only when it is created inside one.
  processPartialResponse(event, relay, new BatchProcessor(EventType.DynamoDBStreams), { context }),
);
