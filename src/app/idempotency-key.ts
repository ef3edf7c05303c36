import type { IdempotencyRecord, IdempotencyRepository } from '#app/ports.ts';
import { ConflictError, ValidationError } from '#shared/errors.ts';

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
  naturalKey: Promise<IdempotencyRecord | undefined>,
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
