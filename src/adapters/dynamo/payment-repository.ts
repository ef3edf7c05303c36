import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type {
  IdempotencyRecord,
  ListingMerchant,
  ListQuery,
  PaymentFilter,
  PaymentRepository,
  RefundRepository,
} from '#app/ports.ts';
import type { Payment } from '#domain/payment.ts';
import type { Refund, RefundStatus } from '#domain/refund.ts';
import { fromItem } from './items.ts';
import { type Key, keys } from './keys.ts';
import { equalityFilter, type ListingFilter, listingOf, listMerchantItems } from './merchant-listing.ts';

/**
 * Strongly consistent reads: every decision that leads to a conditional write starts from the latest state.
 * (Writes go through the transaction store.)
 */
async function read(db: DynamoDBDocumentClient, tableName: string, key: Key) {
  const { Item } = await db.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
  return Item;
}

function guardRecord(item: Record<string, unknown> | undefined): IdempotencyRecord | undefined {
  return item ? { resourceId: String(item.resourceId), requestHash: String(item.requestHash) } : undefined;
}

/** Payments and their `(merchant, order_no)` guards. */
export class DynamoPaymentRepository implements PaymentRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(id: string): Promise<Payment | undefined> {
    const item = await read(this.db, this.tableName, keys.payment(id));
    return item ? fromItem<Payment>(item) : undefined;
  }

  async findByOrderNo(merchantId: string, orderNo: string) {
    return guardRecord(await read(this.db, this.tableName, keys.orderGuard(merchantId, orderNo)));
  }

  list(merchant: ListingMerchant, query: ListQuery, filter: PaymentFilter) {
    return listMerchantItems<Payment>(
      this.db,
      this.tableName,
      listingOf(merchant, 'payments'),
      query,
      paymentFilter(filter),
    );
  }
}

/**
 * The stored attributes behind `GET /v1/payments` filters. `status` is the status the merchant sees: like
 * `visibleStatus`, a `PENDING` payment past its expiry shows as `CLOSED` (and is no longer `PENDING`).
 */
function paymentFilter({ status, channel, accountId, riskDecision, now }: PaymentFilter): ListingFilter | undefined {
  const others = allOf(equalityFilter({ channel, accountId }), riskFilter(riskDecision));
  if (!status) return others;
  const expression =
    status === 'PENDING'
      ? '(#status = :status AND #expiresAt > :now)'
      : status === 'CLOSED'
        ? '(#status = :status OR (#status = :pending AND #expiresAt <= :now))'
        : '#status = :status';
  const expiring = status === 'PENDING' || status === 'CLOSED';
  return {
    expression: others ? `${expression} AND ${others.expression}` : expression,
    names: { '#status': 'status', ...(expiring ? { '#expiresAt': 'expiresAt' } : {}), ...others?.names },
    values: {
      ':status': status,
      ...(expiring ? { ':now': now.toISOString() } : {}),
      ...(status === 'CLOSED' ? { ':pending': 'PENDING' } : {}),
      ...others?.values,
    },
  };
}

/** `risk.decision` as the API shows it: a payment stored without one (before the engine, or with it off) is ALLOW. */
function riskFilter(decision: PaymentFilter['riskDecision']): ListingFilter | undefined {
  if (!decision) return undefined;
  const path = '#risk.#riskDecision = :riskDecision';
  return {
    expression: decision === 'ALLOW' ? `(attribute_not_exists(#risk) OR ${path})` : path,
    names: { '#risk': 'risk', '#riskDecision': 'decision' },
    values: { ':riskDecision': decision },
  };
}

/** Both filters (either may be absent). */
function allOf(a: ListingFilter | undefined, b: ListingFilter | undefined): ListingFilter | undefined {
  if (!a || !b) return a ?? b;
  return {
    expression: `${a.expression} AND ${b.expression}`,
    names: { ...a.names, ...b.names },
    values: { ...a.values, ...b.values },
  };
}

/** Refunds and their `(merchant, refund_no)` guards. */
export class DynamoRefundRepository implements RefundRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(id: string): Promise<Refund | undefined> {
    const item = await read(this.db, this.tableName, keys.refund(id));
    return item ? fromItem<Refund>(item) : undefined;
  }

  async findByRefundNo(merchantId: string, refundNo: string) {
    return guardRecord(await read(this.db, this.tableName, keys.refundGuard(merchantId, refundNo)));
  }

  list(merchant: ListingMerchant, query: ListQuery, filter: { paymentId?: string; status?: RefundStatus }) {
    return listMerchantItems<Refund>(
      this.db,
      this.tableName,
      listingOf(merchant, 'refunds'),
      query,
      equalityFilter({ paymentId: filter.paymentId, status: filter.status }),
    );
  }
}
