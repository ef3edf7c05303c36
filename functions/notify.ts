import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { getContainer } from '#adapters/container.ts';
import { notifyFromQueue } from '#app/notifications.ts';
import { workerHandler } from '#shared/worker-handler.ts';

const processor = new BatchProcessor(EventType.SQS);
const message = z.object({ eventId: z.string().regex(/^evt_[A-Za-z0-9]+$/), trigger: z.enum(['first', 'replay']) });

/**
 * The notify queue's consumer: first attempts and replays. A record fails (and SQS redelivers it, then parks it in
 * the DLQ) only if it could neither deliver nor hand the event to the retry workflow.
 */
async function notify(record: SQSRecord): Promise<void> {
  await notifyFromQueue(getContainer(), message.parse(JSON.parse(record.body)));
}

export const handler = workerHandler((event: SQSEvent, context) =>
  processPartialResponse(event, notify, processor, { context }),
);
