import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { BillEntry } from '#domain/reconciliation.ts';
import { keys, sandboxBillIndex, sandboxBillPartition } from '../dynamo/keys.ts';

/** What the sandbox charges per settled payment (and returns per refund): 0.60 %, rounded half up to the minor unit. */
export function sandboxFeeMinor(amountMinor: number): number {
  return Math.floor((amountMinor * 6 + 500) / 1000);
}

/** The sandbox channel's own record of a refund: what a real channel keeps on its side. */
export interface SandboxRefundRecord {
  refundId: string;
  amountMinor: number;
  currency: string;
  status: 'PROCESSING' | 'SUCCESS' | 'FAILED';
  channelRefundNo: string;
  /** The refunded payment. */
  paymentId?: string;
  /** When the refund was decided (absent while processing). */
  decidedAt?: string;
}

/** The sandbox channel's own record of an order: paid or failed on its cashier page, or closed by the gateway. */
export interface SandboxPaymentRecord {
  paymentId: string;
  status: 'SUCCESS' | 'FAILED' | 'CLOSED';
  amountMinor: number;
  currency: string;
  channelTradeNo: string;
  decidedAt: string;
}

/**
 * Storage of the simulated sandbox channel (kept in the gateway's table under `SANDBOX#…`, apart from the gateway's
 * own records). Its outcome is decided once, on the sandbox refund page or by a test, like a real channel's.
 */
export class SandboxStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Decides an order once at the channel: paid/failed by the payer, or closed by the gateway. Like a real channel,
   * a closed order cannot be paid and a paid one cannot be closed. Returns the record that stands.
   */
  async decidePayment(record: SandboxPaymentRecord): Promise<SandboxPaymentRecord> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.sandboxPayment(record.paymentId),
            entity: 'SANDBOX_PAYMENT',
            ...record,
            // A paid order goes on the sandbox's bill of its business day.
            ...(record.status === 'SUCCESS' ? sandboxBillIndex(record.decidedAt, record.paymentId) : {}),
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return record;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const standing = await this.getPayment(record.paymentId);
      if (!standing) throw error;
      return standing;
    }
  }

  async getPayment(paymentId: string): Promise<SandboxPaymentRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.sandboxPayment(paymentId), ConsistentRead: true }),
    );
    return Item as SandboxPaymentRecord | undefined;
  }

  /** Records a submitted refund; a repeated submission of the same refund is a no-op (idempotent at the channel). */
  async submitRefund(record: Omit<SandboxRefundRecord, 'status'>): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.sandboxRefund(record.refundId), entity: 'SANDBOX_REFUND', ...record, status: 'PROCESSING' },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async getRefund(refundId: string): Promise<SandboxRefundRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: keys.sandboxRefund(refundId), ConsistentRead: true }),
    );
    return Item as SandboxRefundRecord | undefined;
  }

  /** Decides a processing refund's outcome once (at `decidedAt`); false if it was already decided. */
  async decideRefund(
    refundId: string,
    status: 'SUCCESS' | 'FAILED',
    decidedAt: string = new Date().toISOString(),
  ): Promise<boolean> {
    // A refund made goes on the sandbox's bill of its business day.
    const index = status === 'SUCCESS' ? sandboxBillIndex(decidedAt, refundId) : undefined;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.sandboxRefund(refundId),
          UpdateExpression: `SET #status = :status, decidedAt = :at${index ? ', GSI2PK = :pk, GSI2SK = :sk' : ''}`,
          ConditionExpression: '#status = :processing',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': status,
            ':processing': 'PROCESSING',
            ':at': decidedAt,
            ...(index ? { ':pk': index.GSI2PK, ':sk': index.GSI2SK } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * The sandbox's bill of a business day, from its own records (GSI2 `SANDBOX#BILL#{day}`, in time order): each paid
   * order and each refund made, with the sandbox's fee ({@link sandboxFeeMinor}; returned on a refund).
   */
  async *billOf(day: string): AsyncGenerator<BillEntry> {
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk',
        ExpressionAttributeValues: { ':pk': sandboxBillPartition(day) },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        if (item.entity === 'SANDBOX_PAYMENT') {
          const record = item as unknown as SandboxPaymentRecord;
          yield {
            kind: 'PAYMENT',
            gatewayId: record.paymentId,
            channelTradeNo: record.channelTradeNo,
            amountMinor: record.amountMinor,
            feeMinor: sandboxFeeMinor(record.amountMinor),
            currency: record.currency,
            status: 'SUCCESS',
            occurredAt: record.decidedAt,
          };
        } else {
          const record = item as unknown as SandboxRefundRecord;
          const fee = sandboxFeeMinor(record.amountMinor);
          yield {
            kind: 'REFUND',
            gatewayId: record.refundId,
            channelTradeNo: record.channelRefundNo,
            amountMinor: record.amountMinor,
            feeMinor: fee === 0 ? 0 : -fee,
            currency: record.currency,
            status: 'SUCCESS',
            occurredAt: record.decidedAt ?? '',
          };
        }
      }
    }
  }
}
