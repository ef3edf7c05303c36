import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { RelayFailure, RelayFailureQueue } from '#app/ports.ts';
import { type FailedStreamBatch, REDRIVE_MAX_DELAY_SECONDS } from '#domain/relay-redrive.ts';
import { requireSetting } from '#shared/config.ts';
import * as z from '#shared/zod.ts';

/** The message attribute that counts a record's failed re-drives (absent on the mapping's original record). */
const ATTEMPTS_ATTRIBUTE = 'redriveAttempts';

/**
 * The record a Lambda event source mapping sends to its on-failure destination after a stream batch ran out of
 * retries (only the part the re-drive reads; the local stream poller sends the same shape).
 */
const streamFailureRecord = z.object({
  DDBStreamBatchInfo: z.object({
    streamArn: z.string().check(z.minLength(1)),
    shardId: z.string().check(z.minLength(1)),
    startSequenceNumber: z.string().check(z.regex(/^\d+$/)),
    endSequenceNumber: z.string().check(z.regex(/^\d+$/)),
  }),
});

/**
 * The outbox relay's failure queue and its final queue on SQS (endpoint from `AWS_ENDPOINT_URL_SQS` locally). A
 * failed re-drive sends the record again with its attempt count and a delay, then deletes the received copy: the count
 * travels with the message (SQS's own receive count would also count a crashed run, which the queue's redrive policy
 * handles as a backstop).
 */
export class SqsRelayFailureQueue implements RelayFailureQueue {
  constructor(
    private readonly urls: { failures?: string; undeliverable?: string },
    private readonly sqs = new SQSClient({}),
  ) {}

  async receive(max: number): Promise<RelayFailure[]> {
    const out = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.failures(),
        MaxNumberOfMessages: Math.min(Math.max(max, 1), 10),
        WaitTimeSeconds: 0,
        MessageAttributeNames: [ATTEMPTS_ATTRIBUTE],
      }),
    );
    return (out.Messages ?? []).flatMap((message) => {
      if (!message.ReceiptHandle) return [];
      const body = message.Body ?? '';
      const attempts = Number(message.MessageAttributes?.[ATTEMPTS_ATTRIBUTE]?.StringValue ?? 0);
      return [
        {
          batch: parseBatch(body),
          attempts: Number.isSafeInteger(attempts) && attempts >= 0 ? attempts : 0,
          body,
          receipt: message.ReceiptHandle,
        },
      ];
    });
  }

  async settle(failure: RelayFailure): Promise<void> {
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.failures(), ReceiptHandle: failure.receipt }));
  }

  async retryLater(failure: RelayFailure, delaySeconds: number): Promise<void> {
    // Sent before the delete: a crash in between re-drives the batch twice (harmless), never loses it.
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.failures(),
        MessageBody: failure.body,
        DelaySeconds: Math.min(Math.max(Math.round(delaySeconds), 0), REDRIVE_MAX_DELAY_SECONDS),
        MessageAttributes: {
          [ATTEMPTS_ATTRIBUTE]: { DataType: 'Number', StringValue: String(failure.attempts + 1) },
        },
      }),
    );
    await this.settle(failure);
  }

  async giveUp(failure: RelayFailure): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: requireSetting(this.urls.undeliverable, 'RELAY_UNDELIVERABLE_QUEUE_URL'),
        MessageBody: failure.body,
        MessageAttributes: {
          [ATTEMPTS_ATTRIBUTE]: { DataType: 'Number', StringValue: String(failure.attempts + 1) },
        },
      }),
    );
    await this.settle(failure);
  }

  private failures(): string {
    return requireSetting(this.urls.failures, 'RELAY_FAILURE_QUEUE_URL');
  }
}

/** The batch a failure record names; `undefined` for anything else (it is retried, then parked in the final queue). */
function parseBatch(body: string): FailedStreamBatch | undefined {
  try {
    const parsed = streamFailureRecord.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data.DDBStreamBatchInfo : undefined;
  } catch {
    return undefined;
  }
}
