import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyRecord, PaymentRepository, RefundRepository } from '#app/ports.ts';
import type { Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { fromItem } from './items.ts';
import { type Key, keys } from './keys.ts';

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
}
