import { z } from 'zod';
import { getContainer } from '#adapters/container.ts';
import { giveUpOnEvent } from '#app/notifications.ts';
import { workerHandler } from '#shared/worker-handler.ts';

const input = z.object({ eventId: z.string().regex(/^evt_[A-Za-z0-9]+$/) });

/** `notify-retry` task after the last retry: the event becomes FAILED, goes to the DLQ, and the alarm metric fires. */
export const handler = workerHandler(async (event: unknown) => {
  const { eventId } = input.parse(event);
  await giveUpOnEvent(getContainer(), eventId);
  return { eventId, failed: true };
});
