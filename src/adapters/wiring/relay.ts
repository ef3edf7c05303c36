import type { GatewayConfig } from '#shared/config.ts';
import { SqsRelayFailureQueue } from '../aws/relay-failure-queue.ts';
import { DynamoStreamBatches } from '../aws/stream-batches.ts';

/** The relay failure queue (SQS) and the table stream the re-drive reads skipped batches back from. */
export function relayFailureParts(config: GatewayConfig) {
  return {
    relayFailures: new SqsRelayFailureQueue({
      failures: config.relayFailureQueueUrl,
      undeliverable: config.relayUndeliverableQueueUrl,
    }),
    streamBatches: new DynamoStreamBatches(),
  };
}
