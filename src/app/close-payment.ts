import type { IdempotencyRepository, PaymentRepository, TransactionStore } from '#app/ports.ts';
import type { Merchant } from '#domain/merchant.ts';
import { assertClosable, type Payment } from '#domain/payment.ts';
import { paymentResource } from '#domain/resources.ts';
import { ConflictError } from '#shared/errors.ts';
import type { IdPrefix } from '#shared/ids.ts';
import { getPayment } from './payment-queries.ts';
import { requestHash } from './request-hash.ts';
import { untilNotStale } from './stale-retry.ts';

export interface ClosePaymentDeps {
  store: TransactionStore;
  payments: PaymentRepository;
  idempotency: IdempotencyRepository;
  clock: () => Date;
  newId: (prefix: IdPrefix) => string;
}

/**
 * Closes a merchant's `PENDING` payment.
 *
 * 1. Read the payment (404 if it is not this merchant's).
 * 2. A repeated `Idempotency-Key` replays the earlier close.
 * 3. Only `PENDING` closes (`409 INVALID_STATE`); the transition, the `payment.closed` event and the key claim
 *    commit in ONE transaction conditional on the version read, so a racing success callback wins or loses cleanly.
 */
export async function closePayment(
  deps: ClosePaymentDeps,
  merchant: Merchant,
  paymentId: string,
  idempotencyKey?: string,
): Promise<{ payment: Payment; replayed: boolean }> {
  const hash = requestHash({ operation: 'payment.close', paymentId });
  return untilNotStale(async () => {
    const payment = await getPayment(deps, merchant, paymentId);
    if (idempotencyKey) {
      const earlier = await deps.idempotency.find(merchant.id, idempotencyKey);
      if (earlier && earlier.requestHash !== hash) {
        throw new ConflictError('IDEMPOTENCY_CONFLICT', 'this key was already used with different parameters');
      }
      if (earlier) return { payment, replayed: true };
    }
    const now = deps.clock();
    assertClosable(payment, now);
    const at = now.toISOString();
    const closed: Payment = { ...payment, status: 'CLOSED', updatedAt: at, version: payment.version + 1 };
    // A racing writer (a success callback, another close) makes this stale: re-read and answer from the new state.
    await deps.store.commit({
      payments: [{ payment: closed, expectedVersion: payment.version }],
      events: [
        {
          id: deps.newId('evt'),
          type: 'payment.closed',
          merchantId: payment.merchantId,
          paymentId: payment.id,
          notifyUrl: payment.notifyUrl,
          createdAt: at,
          data: paymentResource(closed, now),
        },
      ],
      idempotency: idempotencyKey
        ? { merchantId: merchant.id, key: idempotencyKey, requestHash: hash, resourceId: payment.id }
        : undefined,
    });
    return { payment: closed, replayed: false };
  });
}
