import { ValidationError } from '#shared/errors.ts';

/**
 * Per-merchant write shards of the listing index (GSI1: a merchant's payments, refunds and events). Before
 * {@link MERCHANT_LISTING_SHARDS_SINCE} every merchant's items were spread by the one global plan (1, then 128, then
 * 256 shards); from that day on each merchant has its own count: {@link DEFAULT_LISTING_SHARDS} unless an operator
 * appended steps to its profile (`npm run merchant -- listing-shards add`). docs/scaling.md has the math.
 */

/** From `from` (an ISO 8601 UTC instant with milliseconds) on, the merchant's new GSI1 items use `shards` shards. */
export interface ListingShardStep {
  readonly from: string;
  readonly shards: number;
}

/** Items created from this UTC day on are sharded per merchant; items created before keep the global plan's keys. */
export const MERCHANT_LISTING_SHARDS_SINCE = '2026-12-05';

/**
 * A merchant's count without steps. One partition takes ~1,000 WCU/s; a payment writes ~4 units on its merchant's
 * payments key (two transactional writes of a ≤ 1 KB item, charged twice) and ~2 on its events key (bench section 11).
 * One shard keeps a merchant's hottest second within 50 % of a partition (mean + 3 standard deviations of the hash
 * spread) up to ~90 payments/s: at 100,000 payments/s over the bench's 10,000 Zipf-skewed merchants all but the ~100
 * largest (the largest: 20,000/s → 256 shards at 4 units, 512 at 8), and it keeps every other merchant's listing page
 * at one Query.
 */
export const DEFAULT_LISTING_SHARDS = 1;

/** The most shards a merchant can get: a page queries each at least once within `MAX_EVALUATED_PER_REQUEST` (1,000). */
export const MAX_LISTING_SHARDS = 512;

/**
 * How long before it applies a new step must be set, at least: every container must have re-read the merchant (its
 * cache TTL, `MERCHANT_CACHE_TTL_MS`, is 1 s deployed) before an item is created under it, or that container would
 * write the item with the older, smaller count (still listed — readers query the larger count — but hotter).
 */
export const LISTING_STEP_MIN_LEAD_MS = 5 * 60_000;

/**
 * The merchant's shard count for an item created at `at` (an ISO instant): the largest step in force then, never below
 * the default. Items created before the cutover are keyed by the global plan; what this gives for them is the count
 * at the cutover, which their refunds and events created later may use (counts only grow, so it is never more than
 * the count in force when those are created, and readers query that one).
 */
export function listingShardsAt(steps: readonly ListingShardStep[] | undefined, at: string): number {
  const when = at < MERCHANT_LISTING_SHARDS_SINCE ? MERCHANT_LISTING_SHARDS_SINCE : at;
  let count = DEFAULT_LISTING_SHARDS;
  for (const step of steps ?? []) if (step.from <= when && step.shards > count) count = step.shards;
  return count;
}

/**
 * The steps with `step` appended, or a `ValidationError`: steps are append-only, each starts at least `minLeadMs`
 * after `now` and after the last one, and raises the count (an item never moves, so a count can never shrink).
 */
export function appendListingShardStep(
  steps: readonly ListingShardStep[] | undefined,
  step: ListingShardStep,
  now: Date,
  minLeadMs: number,
): ListingShardStep[] {
  const existing = steps ?? [];
  const refuse = (message: string) => {
    throw new ValidationError('VALIDATION_FAILED', message, { from: step.from, shards: step.shards });
  };
  if (!Number.isInteger(step.shards) || step.shards < 1 || step.shards > MAX_LISTING_SHARDS) {
    refuse(`shards must be an integer 1–${MAX_LISTING_SHARDS}`);
  }
  const earliest = new Date(now.getTime() + minLeadMs).toISOString();
  if (step.from < earliest) refuse(`from must be at least ${minLeadMs / 1000} s ahead (${earliest} or later)`);
  const last = existing.at(-1);
  if (last && step.from <= last.from) refuse(`from must be after the last step's (${last.from})`);
  const current = listingShardsAt(existing, step.from);
  if (step.shards <= current) refuse(`shards must be more than the count in force then (${current})`);
  return [...existing, step];
}
