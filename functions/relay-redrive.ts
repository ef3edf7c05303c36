import { channelParts } from '#adapters/wiring/channels.ts';
import { dynamoParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { queueParts } from '#adapters/wiring/notify.ts';
import { relayFailureParts } from '#adapters/wiring/relay.ts';
import { workflowParts } from '#adapters/wiring/workflows.ts';
import { redriveRelayFailures } from '#app/relay-redrive.ts';
import { workerHandler } from '#shared/worker-handler.ts';

/** This function's composition root: the outbox relay's parts, the failure queue and the stream reader. */
const wire = wiring((config, db) => {
  const base = dynamoParts(config, db);
  return {
    ...base,
    ...channelParts(base),
    ...queueParts(config),
    ...workflowParts(config),
    ...relayFailureParts(config),
  };
});

/**
 * Scheduled re-drive of the outbox relay's failures (every few minutes): relays the skipped stream batches again,
 * bounded per run, with a growing delay between attempts; see `redriveRelayFailures`.
 */
export const handler = workerHandler(async () => redriveRelayFailures(wire()));
