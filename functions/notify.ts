import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { cipherParts } from '#adapters/wiring/cipher.ts';
import { dynamoParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { egressParts, queueParts } from '#adapters/wiring/notify.ts';
import { workflowParts } from '#adapters/wiring/workflows.ts';
import { notifyFromQueue } from '#app/notifications.ts';
import { workerHandler } from '#shared/worker-handler.ts';
import * as z from '#shared/zod.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const base = dynamoParts(config, db);
  return { ...base, ...cipherParts(config), ...egressParts(config), ...queueParts(config), ...workflowParts(config) };
});

const message = z.object({
  eventId: z.string().check(z.regex(/^evt_[A-Za-z0-9]+$/)),
  trigger: z.enum(['first', 'replay']),
});

/**
 * The notify queue's consumer: first attempts and replays. A record fails (and SQS redelivers it, then parks it in
 * the DLQ) only if it could neither deliver nor hand the event to the retry workflow.
 */
async function notify(record: SQSRecord): Promise<void> {
  await notifyFromQueue(wire(), message.parse(JSON.parse(record.body)));
}

export const handler = workerHandler((event: SQSEvent, context) =>
  // A processor per invocation: its state is the batch's, and Powertools keeps it per invocation (where
  // invocations run concurrently: Lambda Managed Instances, the local stack) only when it is created inside one.
  processPartialResponse(event, notify, new BatchProcessor(EventType.SQS), { context }),
);
