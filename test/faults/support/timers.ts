import { type ExpiryDeps, expireBucket } from '#app/expire-payments.ts';

/** What the minute timer's task did over a whole bucket. */
export interface ExpiryCounts {
  closed: number;
  succeeded: number;
  synced: number;
  postponed: number;
  /** Unconfirmed daily-volume reservations given back. */
  released: number;
}

/**
 * The order-expiry task over one whole minute bucket, page by page with its cursor — what the order-expiry state
 * machine does once the minute has passed. The suite runs it with a clock ahead (the test process's sweep after every
 * case, and the gateway process when a test crashes it mid-bucket), never waiting for the real minute.
 */
export async function expireWholeBucket(deps: ExpiryDeps, bucket: string): Promise<ExpiryCounts> {
  const counts: ExpiryCounts = { closed: 0, succeeded: 0, synced: 0, postponed: 0, released: 0 };
  let cursor: string | undefined;
  do {
    const page = await expireBucket(deps, bucket, cursor);
    for (const key of Object.keys(counts) as (keyof ExpiryCounts)[]) counts[key] += page[key];
    cursor = page.done ? undefined : page.cursor;
  } while (cursor);
  return counts;
}
