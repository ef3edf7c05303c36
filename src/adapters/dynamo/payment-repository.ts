import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { CreateOutcome, IdempotencyClaim, PaymentRepository, PaymentTransition } from '#app/ports.ts';
import { StaleStateError } from '#app/ports.ts';
import type { OutboxEvent } from '#domain/events.ts';
import type { Payment } from '#domain/payment.ts';
import type { WalletChange } from '#domain/wallet.ts';
import { asStaleOnConflict, fromItem, ttlSeconds } from './items.ts';
import { keys, paymentIndexes } from './keys.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** Payments, their order-no guards, and the atomic transitions that move money with them. */
export class DynamoPaymentRepository implements PaymentRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(payment: Payment, idempotency?: IdempotencyClaim): Promise<CreateOutcome> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: paymentItem(payment),
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.orderGuard(payment.merchantId, payment.orderNo),
            entity: 'ORDER_GUARD',
            resourceId: payment.id,
            requestHash: payment.requestHash,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
    ];
    if (idempotency) items.push(this.claimItem(idempotency, new Date(payment.createdAt)));
    try {
      await asStaleOnConflict(() => this.db.send(new TransactWriteCommand({ TransactItems: items })));
      return { created: true };
    } catch (error) {
      if (error instanceof StaleStateError) return { created: false };
      throw error;
    }
  }

  async get(id: string): Promise<Payment | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.payment(id), ConsistentRead: true }),
    );
    return Item ? fromItem<Payment>(Item) : undefined;
  }

  async findByOrderNo(merchantId: string, orderNo: string) {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.orderGuard(merchantId, orderNo), ConsistentRead: true }),
    );
    return Item ? { resourceId: String(Item.resourceId), requestHash: String(Item.requestHash) } : undefined;
  }

  async commitTransition(transition: PaymentTransition): Promise<void> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: paymentItem(transition.payment),
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': transition.expectedVersion },
        },
      },
      ...transition.walletChanges.flatMap((change) => walletItems(this.tableName, change)),
      ...transition.events.map((event) => eventItem(this.tableName, event)),
    ];
    if (transition.idempotency) {
      items.push(this.claimItem(transition.idempotency, new Date(transition.payment.updatedAt)));
    }
    await asStaleOnConflict(() => this.db.send(new TransactWriteCommand({ TransactItems: items })));
  }

  /** An idempotency key may be reused once its 24 h have passed, even before TTL deletes the item. */
  private claimItem(claim: IdempotencyClaim, now: Date): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...keys.idempotency(claim.merchantId, claim.key),
          entity: 'IDEMPOTENCY',
          requestHash: claim.requestHash,
          resourceId: claim.resourceId,
          ttl: ttlSeconds(new Date(now.getTime() + IDEMPOTENCY_TTL_MS)),
        },
        ConditionExpression: 'attribute_not_exists(PK) OR #ttl < :now',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':now': ttlSeconds(now) },
      },
    };
  }
}

function paymentItem(payment: Payment): Record<string, unknown> {
  return {
    ...keys.payment(payment.id),
    entity: 'PAYMENT',
    ...payment,
    ...paymentIndexes.byMerchant(payment.merchantId, payment.createdAt, payment.id),
    ...(payment.paidAt ? paymentIndexes.bySettlementDay(payment.channel, payment.paidAt, payment.id) : {}),
    ...(payment.status === 'PENDING' ? paymentIndexes.byExpiryMinute(payment.expiresAt, payment.id) : {}),
  };
}

/** The wallet write (conditional on the version read) and its ledger line (never overwritten). */
function walletItems(tableName: string, change: WalletChange): TransactItem[] {
  const { wallet, entry } = change;
  return [
    {
      Put: {
        TableName: tableName,
        Item: { ...keys.wallet(wallet.merchantId, wallet.accountId, wallet.currency), entity: 'WALLET', ...wallet },
        ...(change.expectedVersion === 0
          ? { ConditionExpression: 'attribute_not_exists(PK)' }
          : {
              ConditionExpression: 'version = :expected',
              ExpressionAttributeValues: { ':expected': change.expectedVersion },
            }),
      },
    },
    {
      Put: {
        TableName: tableName,
        Item: {
          ...keys.ledgerEntry(entry.merchantId, entry.accountId, entry.currency, entry.seq),
          entity: 'LEDGER',
          ...entry,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
  ];
}

function eventItem(tableName: string, event: OutboxEvent): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: { ...keys.event(event.id), entity: 'EVENT', ...event, deliveryStatus: 'PENDING', attempts: 0 },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}
