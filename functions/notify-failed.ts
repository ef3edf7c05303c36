import { cipherParts } from '#adapters/wiring/cipher.ts';
import { dynamoParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { egressParts, queueParts } from '#adapters/wiring/notify.ts';
import { workflowParts } from '#adapters/wiring/workflows.ts';
import { giveUpOnEvent } from '#app/notifications.ts';
import { workerHandler } from '#shared/worker-handler.ts';
import * as z from '#shared/zod.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const base = dynamoParts(config, db);
  return { ...base, ...cipherParts(config), ...egressParts(config), ...queueParts(config), ...workflowParts(config) };
});

const input = z.object({ eventId: z.string().check(z.regex(/^evt_[A-Za-z0-9]+$/)) });

/** `notify-retry` task after the last retry: the event becomes FAILED, goes to the DLQ, and the alarm metric fires. */
export const handler = workerHandler(async (event: unknown) => {
  const { eventId } = input.parse(event);
  await giveUpOnEvent(wire(), eventId);
  return { eventId, failed: true };
});
