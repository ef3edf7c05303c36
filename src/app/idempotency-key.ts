import type { IdempotencyRecord, IdempotencyRepository } from '#app/ports.ts';
import { AppError, ConflictError, ValidationError } from '#shared/errors.ts';
import { untilNotStale } from './stale-retry.ts';

/** The optional `Idempotency-Key` header: 1–255 printable ASCII characters. */
export function idempotencyKeyOf(headers: Record<string, string | undefined>): string | undefined {
  const key = headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new ValidationError('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be 1-255 printable ASCII characters');
  }
  return key;
}

/**
 * The resource an earlier request created under this `Idempotency-Key` and/or natural key (`order_no`, `refund_no`):
 * its id when the parameters match, `409 IDEMPOTENCY_CONFLICT` when they do not, `undefined` when none exists.
 */
export async function earlierResourceId(
  idempotency: IdempotencyRepository,
  merchantId: string,
  idempotencyKey: string | undefined,
  naturalKey: Promise<IdempotencyRecord | undefined> | undefined,
  hash: string,
  details: Record<string, unknown>,
): Promise<string | undefined> {
  const records = await Promise.all([
    idempotencyKey ? idempotency.find(merchantId, idempotencyKey) : undefined,
    naturalKey,
  ]);
  const record = records.find((candidate) => candidate !== undefined);
  if (!record) return undefined;
  if (records.some((candidate) => candidate && candidate.requestHash !== hash)) {
    throw new ConflictError('IDEMPOTENCY_CONFLICT', 'this key was already used with different parameters', details);
  }
  return record.resourceId;
}

/**
 * Creates a resource once per natural key / `Idempotency-Key` and answers every duplicate as a duplicate, deciding
 * from the committed winner — never from a read taken before it committed.
 *
 * 1. A committed earlier request → replay it (`findEarlier` throws `409 IDEMPOTENCY_CONFLICT` on other parameters).
 * 2. Otherwise `create`. If it fails — a lost commit race, or a refusal the winner's own effect can cause (the
 *    wallet it debited, the refundable amount it used, the state it moved) — look again: a winner committed in the
 *    meantime is replayed, and only without one does the error stand.
 * 3. A lost race with no winner (another writer moved the state) is decided afresh; after many, the retryable
 *    `409 REQUEST_IN_PROGRESS`.
 */
export function createOrReplay<Replay, Created>(
  findEarlier: () => Promise<Replay | undefined>,
  create: () => Promise<Created>,
): Promise<Replay | Created> {
  return untilNotStale<Replay | Created>(async () => {
    const earlier = await findEarlier();
    if (earlier) return earlier;
    try {
      return await create();
    } catch (error) {
      if (error instanceof AppError && error.code === 'IDEMPOTENCY_CONFLICT') throw error;
      // The claim commits in the same transaction as the effect, so a winner whose effect we saw is visible here.
      const winner = await findEarlier();
      if (winner) return winner;
      throw error;
    }
  });
}
