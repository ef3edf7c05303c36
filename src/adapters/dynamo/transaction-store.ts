import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  type ChangeSet,
  type IdempotencyClaim,
  LimitExceededError,
  type NaturalKeyClaim,
  type TransactionStore,
} from '#app/ports.ts';
import { reservationEntry } from '#domain/daily-volume.ts';
import type { OutboxEvent } from '#domain/events.ts';
import type { Payment } from '#domain/payment.ts';
import { reachesChannel } from '#domain/refund.ts';
import { firstSyncAt } from '#domain/status-sync.ts';
import type { WalletChange } from '#domain/wallet.ts';
import { auditPut } from './audit-log.ts';
import { channelKeys } from './channel-keys.ts';
import { asStaleOnConflict, CONFLICT_ATTEMPTS, cancellationReasons, retryOnConflict, ttlSeconds } from './items.ts';
import { eventIndexes, keys, paymentIndexes, refundIndexes } from './keys.ts';
import { activityItem, counterDeltaItem, reservationItem, reservationParts, reviewItem } from './risk-items.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * Commits a {@link ChangeSet} as ONE `TransactWriteItems`: every versioned item conditional on the version read
 * (or on not existing yet), every claim and ledger entry conditional on being new. A lost race surfaces as
 * `StaleStateError`. The optional `onConsumed` hook sees the write capacity each commit used (benchmarks).
 */
export class DynamoTransactionStore implements TransactionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date,
    private readonly onConsumed?: (writeUnits: number) => void,
  ) {}

  async commit(changes: ChangeSet): Promise<void> {
    const items: TransactItem[] = [
      ...(changes.payments ?? []).map(({ payment, expectedVersion }) =>
        this.versioned(paymentItem(payment), expectedVersion),
      ),
      ...(changes.refunds ?? []).map(({ refund, expectedVersion }) =>
        this.versioned(
          {
            ...keys.refund(refund.id),
            entity: 'REFUND',
            ...refund,
            ...refundIndexes.byMerchant(refund.merchantId, refund.createdAt, refund.id, refund.listingShards),
            // Only refunds that reach the channel appear in its bills; a BALANCE refund must never be LOCAL_ONLY.
            ...(refund.completedAt && reachesChannel(refund)
              ? refundIndexes.bySettlementDay(refund.channel, refund.completedAt, refund.id)
              : {}),
            ...(refund.status === 'PROCESSING' && reachesChannel(refund)
              ? refundIndexes.bySyncMinute(refund.syncAt ?? firstSyncAt(refund.createdAt), refund.id)
              : {}),
          },
          expectedVersion,
        ),
      ),
      ...(changes.walletChanges ?? []).flatMap((change) => this.walletItems(change)),
      ...(changes.events ?? []).map((event) => this.eventItem(event)),
      ...(changes.claims ?? []).map((claim) => this.naturalKeyItem(claim)),
      ...(changes.idempotency ? [this.idempotencyItem(changes.idempotency)] : []),
      ...(changes.audit ?? []).map((record) => auditPut(this.tableName, record)),
      ...(changes.counters ?? []).map((delta) => counterDeltaItem(this.tableName, delta)),
      ...(changes.confirmVolume ? [this.confirmedReservation(changes.confirmVolume)] : []),
    ];
    const now = this.clock();
    const risk = changes.risk;
    // Limit reservations go last, so a cancellation reason's index names the counter that refused.
    if (risk) {
      items.push(
        ...risk.activity.map((activity) => activityItem(this.tableName, risk, activity, now)),
        ...(risk.review ? [reviewItem(this.tableName, risk.review)] : []),
      );
    }
    // `attribute_not_exists` would admit an amount over the whole cap into a fresh counter: refuse it here.
    const parts = (risk?.limits ?? []).flatMap(reservationParts);
    const tooLarge = parts.find((part) => part.amountMinor > part.capMinor);
    if (tooLarge) throw new LimitExceededError(tooLarge.request.counter);
    const limitsAt = items.length;
    items.push(...parts.map((part) => reservationItem(this.tableName, part, now)));
    const send = () =>
      this.db.send(
        new TransactWriteCommand({
          TransactItems: items,
          ...(this.onConsumed ? { ReturnConsumedCapacity: 'TOTAL' as const } : {}),
        }),
      );
    const output = await asStaleOnConflict(async () => {
      try {
        // Cancelled only by a concurrent transaction on one of its items (racing creations of one payer share its
        // counters), a transaction with limits is sent again: every item in it is conditional, so DynamoDB decides
        // afresh.
        return await retryOnConflict(send, risk ? CONFLICT_ATTEMPTS : 1);
      } catch (error) {
        if (!(error instanceof TransactionCanceledException) || !risk) throw error;
        const reasons = cancellationReasons(error);
        const refused = reasons.findIndex((code, index) => index >= limitsAt && code === 'ConditionalCheckFailed');
        if (refused >= 0) throw new LimitExceededError(parts[refused - limitsAt]?.request.counter ?? 'PAYER_DAY');
        throw error;
      }
    });

    if (this.onConsumed) {
      this.onConsumed(
        (output.ConsumedCapacity ?? []).reduce((sum, c) => sum + (c.WriteCapacityUnits ?? c.CapacityUnits ?? 0), 0),
      );
    }
  }

  /** Removes a new payment's daily-volume reservation record, which must still be there (not given back). */
  private confirmedReservation({ paymentId, channel }: NonNullable<ChangeSet['confirmVolume']>): TransactItem {
    return {
      Delete: {
        TableName: this.tableName,
        Key: channelKeys.volumeReservation(reservationEntry(paymentId, channel)),
        ConditionExpression: 'attribute_exists(PK)',
      },
    };
  }

  private versioned(item: Record<string, unknown>, expectedVersion: number): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: item,
        ...(expectedVersion === 0
          ? { ConditionExpression: 'attribute_not_exists(PK)' }
          : {
              ConditionExpression: 'version = :expected',
              ExpressionAttributeValues: { ':expected': expectedVersion },
            }),
      },
    };
  }

  /** The wallet write (conditional on the version read) and its ledger line (never overwritten). */
  private walletItems({ wallet, entry, expectedVersion }: WalletChange): TransactItem[] {
    return [
      this.versioned(
        {
          ...keys.wallet(wallet.merchantId, wallet.accountId, wallet.currency, wallet.subBalance),
          entity: 'WALLET',
          ...wallet,
        },
        expectedVersion,
      ),
      this.newItem({
        ...keys.ledgerEntry(entry.merchantId, entry.accountId, entry.currency, entry.seq, entry.subBalance),
        entity: 'LEDGER',
        ...entry,
      }),
    ];
  }

  private eventItem(event: OutboxEvent): TransactItem {
    return this.newItem({
      ...keys.event(event.id),
      entity: 'EVENT',
      ...event,
      ...eventIndexes.byMerchant(event.merchantId, event.createdAt, event.id, event.listingShards),
      deliveryStatus: 'PENDING',
      attempts: 0,
    });
  }

  private naturalKeyItem(claim: NaturalKeyClaim): TransactItem {
    const key =
      claim.kind === 'order'
        ? keys.orderGuard(claim.merchantId, claim.value)
        : keys.refundGuard(claim.merchantId, claim.value);
    return this.newItem({ ...key, entity: 'GUARD', resourceId: claim.resourceId, requestHash: claim.requestHash });
  }

  /** An idempotency key may be reused once its 24 h have passed, even before TTL deletes the item. */
  private idempotencyItem(claim: IdempotencyClaim): TransactItem {
    const now = this.clock();
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

  private newItem(item: Record<string, unknown>): TransactItem {
    return { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' } };
  }
}

/** A payment's table item: its key and the index keys its state puts it in (also how the bench seeds payments). */
export function paymentItem(payment: Payment): Record<string, unknown> {
  return {
    ...keys.payment(payment.id),
    entity: 'PAYMENT',
    ...payment,
    ...paymentIndexes.byMerchant(payment.merchantId, payment.createdAt, payment.id, payment.listingShards),
    ...(payment.paidAt ? paymentIndexes.bySettlementDay(payment.channel, payment.paidAt, payment.id) : {}),
    ...(payment.status === 'PENDING'
      ? paymentIndexes.byExpiryMinute(payment.syncAt ?? payment.expiresAt, payment.id)
      : {}),
  };
}
