import { z } from 'zod';
import { getContainer } from '#adapters/container.ts';
import { deliverEvent } from '#app/notifications.ts';
import { workerHandler } from '#shared/worker-handler.ts';

const input = z.object({ eventId: z.string().regex(/^evt_[A-Za-z0-9]+$/) });

/** `notify-retry` task: one scheduled retry of a notification. `{ delivered }` steers the state machine. */
export const handler = workerHandler(async (event: unknown) => {
  const { eventId } = input.parse(event);
  return deliverEvent(getContainer(), eventId, 'retry');
});
