/** Order expiry is timed per UTC minute (one timer per busy minute, not one per order). */

/** The expiry bucket of a payment: the UTC minute of its `expires_at` (one timer per minute, not per order). */
export function expiryBucket(expiresAt: string): string {
  return expiresAt.slice(0, 16);
}

/** When a bucket's timer fires: the end of its minute, when every order in it is overdue. */
export function bucketDeadline(bucket: string): string {
  return new Date(Date.parse(`${bucket}:00.000Z`) + 60_000).toISOString();
}
