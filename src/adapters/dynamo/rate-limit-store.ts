import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { RateBucketKey, RateLimitStore } from '#app/ports.ts';
import { leaseUpdate, type RatePolicy } from '#domain/rate-limit.ts';
import { keys } from './keys.ts';

type Take = { count: number; nowUs: number; policy: RatePolicy; knownTat?: number };

/**
 * The rate-limit buckets (`RATE#{merchant}#{class}[#{sub-bucket}]` / `BUCKET`, one `tat` number; sub-bucket 0 is
 * the unsplit key): a take is ONE conditional `UpdateItem` (1 WCU, also when its condition fails). A busy bucket's update is an ADD guarded by "still room",
 * so concurrent containers never conflict while tokens last; a failed condition returns the item as it was
 * (`ALL_OLD`), which picks the other case when the bucket was idle after all.
 */
export class DynamoRateLimitStore implements RateLimitStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async take(key: RateBucketKey, request: Take): Promise<{ taken: boolean; tat?: number }> {
    const idleFirst = request.knownTat === undefined || request.knownTat <= request.nowUs;
    const first = await this.update(key, request, idleFirst);
    if (first.taken) return first;
    // The bucket was in the other case than this container thought: one more try, in that case.
    const idleNow = first.tat === undefined || first.tat <= request.nowUs;
    return idleNow === idleFirst ? first : this.update(key, request, idleNow);
  }

  private async update(
    key: RateBucketKey,
    { count, nowUs, policy }: Take,
    idle: boolean,
  ): Promise<{ taken: boolean; tat?: number }> {
    const { idleTat, busyMaxTat, cost } = leaseUpdate(nowUs, count, policy);
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.rateBucket(key.merchantId, key.routeClass, key.subBucket),
          ...(idle
            ? {
                UpdateExpression: 'SET #tat = :idleTat, #entity = :entity',
                ConditionExpression: 'attribute_not_exists(#tat) OR #tat <= :now',
                ExpressionAttributeNames: { '#tat': 'tat', '#entity': 'entity' },
                ExpressionAttributeValues: { ':idleTat': idleTat, ':now': nowUs, ':entity': 'RATE_BUCKET' },
              }
            : {
                UpdateExpression: 'SET #tat = #tat + :cost',
                ConditionExpression: '#tat > :now AND #tat <= :busyMax',
                ExpressionAttributeNames: { '#tat': 'tat' },
                ExpressionAttributeValues: { ':cost': cost, ':now': nowUs, ':busyMax': busyMaxTat },
              }),
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { taken: true, tat: Number(Attributes?.tat) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item ? unmarshall(error.Item) : undefined;
      return { taken: false, tat: old?.tat === undefined ? undefined : Number(old.tat) };
    }
  }
}
