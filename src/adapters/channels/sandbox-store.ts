import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../dynamo/keys.ts';

/** The sandbox channel's own record of a refund: what a real channel keeps on its side. */
export interface SandboxRefundRecord {
  refundId: string;
  amountMinor: number;
  currency: string;
  status: 'PROCESSING' | 'SUCCESS' | 'FAILED';
  channelRefundNo: string;
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
          Item: { ...keys.sandboxPayment(record.paymentId), entity: 'SANDBOX_PAYMENT', ...record },
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

  /** Decides a processing refund's outcome once; false if it was already decided. */
  async decideRefund(refundId: string, status: 'SUCCESS' | 'FAILED'): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.sandboxRefund(refundId),
          UpdateExpression: 'SET #status = :status',
          ConditionExpression: '#status = :processing',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': status, ':processing': 'PROCESSING' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
