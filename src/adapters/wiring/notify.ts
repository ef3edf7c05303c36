import type { GatewayConfig } from '#shared/config.ts';
import { SqsNotificationQueues } from '../aws/sqs-queues.ts';
import { GuardedEgress } from '../http-notifier.ts';

/** Outbound merchant notifications: the guarded HTTP client, and the `notify_url` egress check it applies. */
export function egressParts(config: GatewayConfig) {
  const egress = new GuardedEgress({ allowLoopback: config.allowLoopbackHttp });
  return { notifier: egress, notifyUrls: egress };
}

/** The notify queue and its dead-letter queue (SQS). */
export function queueParts(config: GatewayConfig) {
  return { queues: new SqsNotificationQueues({ notify: config.notifyQueueUrl, deadLetter: config.notifyDlqUrl }) };
}
