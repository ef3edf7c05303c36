import { z } from 'zod';
import { getContainer } from '#adapters/container.ts';
import { expireBucket } from '#app/expire-payments.ts';
import { workerHandler } from '#shared/worker-handler.ts';

const input = z.object({
  bucket: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/),
  cursor: z.string().optional(),
});

/** `order-expiry` task: closes (or settles, if paid at the channel) one page of a minute bucket's open orders. */
export const handler = workerHandler(async (event: unknown) => {
  const { bucket, cursor } = input.parse(event);
  return expireBucket(getContainer(), bucket, cursor || undefined);
});
