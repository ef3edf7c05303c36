import { channelParts } from '#adapters/wiring/channels.ts';
import { dynamoParts } from '#adapters/wiring/dynamo.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { workflowParts } from '#adapters/wiring/workflows.ts';
import { expireBucket } from '#app/expire-payments.ts';
import { workerHandler } from '#shared/worker-handler.ts';
import * as z from '#shared/zod.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const base = dynamoParts(config, db);
  // The workflows: what cannot be settled now is postponed to a later minute, whose timer this arms.
  return { ...base, ...channelParts(base), ...workflowParts(config) };
});

const input = z.object({
  bucket: z.string().check(z.regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/)),
  cursor: z.optional(z.string()),
});

/** `order-expiry` task: one page of a minute bucket — expires its open orders, status-syncs its processing refunds. */
export const handler = workerHandler(async (event: unknown) => {
  const { bucket, cursor } = input.parse(event);
  return expireBucket(wire(), bucket, cursor || undefined);
});
