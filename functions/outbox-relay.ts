import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { channelParts } from '#adapters/wiring/channels.ts';
import { dynamoParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { queueParts } from '#adapters/wiring/notify.ts';
import { workflowParts } from '#adapters/wiring/workflows.ts';
import { relayChange } from '#app/outbox-relay.ts';
import { workerHandler } from '#shared/worker-handler.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const base = dynamoParts(config, db);
  return { ...base, ...channelParts(base), ...queueParts(config), ...workflowParts(config) };
});

/**
 * The table's stream consumer — the outbox relay. Every committed outbox event reaches the notify queue from here,
 * so a handler that dies between its commit and any queue send loses nothing: the stream still holds the insert,
 * and a failed batch is retried from the failed record (partial batch failures); one that keeps failing is recorded
 * in the relay failure queue and re-driven on schedule (`functions/relay-redrive.ts`).
 * It also arms the minute timer of each new pending payment's first status sync (or expiry), of an approved held
 * payment's first status sync, of each new processing refund's status sync, and of each new daily-volume
 * reservation's sweep.
 */
async function relay(record: DynamoDBRecord): Promise<void> {
  const kind = record.eventName;
  if ((kind !== 'INSERT' && kind !== 'MODIFY') || !record.dynamodb?.NewImage) return;
  await relayChange(wire(), { kind, item: unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>) });
}

export const handler = workerHandler((event: DynamoDBStreamEvent, context) =>
  // A processor per invocation: its state is the batch's, and Powertools keeps it per invocation (where
  // invocations run concurrently: Lambda Managed Instances, the local stack) only when it is created inside one.
  processPartialResponse(event, relay, new BatchProcessor(EventType.DynamoDBStreams), { context }),
);
