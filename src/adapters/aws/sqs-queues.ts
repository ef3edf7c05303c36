import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { NotificationQueues } from '#app/ports.ts';
import type { DeliveryTrigger, StoredEvent } from '#domain/notification.ts';
import { requireSetting } from '#shared/config.ts';

/** The notify queue and its dead-letter queue on SQS (endpoint from `AWS_ENDPOINT_URL_SQS` locally). */
export class SqsNotificationQueues implements NotificationQueues {
  constructor(
    private readonly urls: { notify?: string; deadLetter?: string },
    private readonly sqs = new SQSClient({}),
  ) {}

  async enqueue(eventId: string, trigger: DeliveryTrigger): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: requireSetting(this.urls.notify, 'NOTIFY_QUEUE_URL'),
        MessageBody: JSON.stringify({ eventId, trigger }),
      }),
    );
  }

  async deadLetter(event: StoredEvent): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: requireSetting(this.urls.deadLetter, 'NOTIFY_DLQ_URL'),
        MessageBody: JSON.stringify({
          eventId: event.id,
          type: event.type,
          merchantId: event.merchantId,
          reason: 'RETRIES_EXHAUSTED',
        }),
      }),
    );
  }
}
