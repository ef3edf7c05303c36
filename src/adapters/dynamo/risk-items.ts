import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { RiskWrites } from '#app/ports.ts';
import type { LimitReservation } from '#domain/risk.ts';
import type { ActivityWrite, CounterDelta, LimitRequest } from '#domain/risk-limits.ts';
import { shardCap } from '#domain/sharded-limit.ts';
import { channelKeys, dailyTotalAttribute } from './channel-keys.ts';
import { ttlSeconds } from './items.ts';
import { type Key, riskKeys } from './keys.ts';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const DAY_MS = 86_400_000;
/** Counters outlive every payment that can still give its amount back (open at most a day, plus timer lag). */
const KEEP_DAY_COUNTER_MS = 8 * DAY_MS;
const KEEP_MONTH_COUNTER_MS = 40 * DAY_MS;

/** The counter item of a reservation (a payer's day or month, a merchant's day: counter `shard` when sharded). */
export function counterKey(reservation: LimitReservation, shard?: number): Key {
  if (reservation.counter === 'MERCHANT_DAY')
    return riskKeys.merchantCounter(reservation.merchantId, reservation.period, shard);
  return riskKeys.payerCounter(reservation.merchantId, reservation.payerAccountId ?? '', reservation.period);
}

/** One conditional counter write of a limit reservation: `amountMinor` on the counter at `key`, within `capMinor`. */
export interface ReservationPart {
  request: LimitRequest;
  key: Key;
  amountMinor: number;
  capMinor: number;
}

/**
 * The counter writes of a reservation: the whole amount on its counter within the limit, or — a sharded merchant
 * day — each share on its own counter within that counter's share of the limit (`shardCap`).
 */
export function reservationParts(request: LimitRequest): ReservationPart[] {
  const { shares, shards } = request;
  if (!shares || shards === undefined) {
    return [{ request, key: counterKey(request), amountMinor: request.amountMinor, capMinor: request.limitMinor }];
  }
  return shares.map((share) => ({
    request,
    key: counterKey(request, share.shard),
    amountMinor: share.amountMinor,
    capMinor: shardCap(request.limitMinor, shards, share.shard),
  }));
}

/**
 * A limit reservation's counter write: `ADD total :amount`, conditional on `total <= cap - amount` (DynamoDB
 * conditions cannot add, so the subtraction is done here). Concurrent reservations are serialised by DynamoDB, so
 * together they can never take a counter over its cap.
 */
export function reservationItem(tableName: string, part: ReservationPart, now: Date): TransactItem {
  const keep = part.request.counter === 'PAYER_MONTH' ? KEEP_MONTH_COUNTER_MS : KEEP_DAY_COUNTER_MS;
  return {
    Update: {
      TableName: tableName,
      Key: part.key,
      UpdateExpression: 'SET #entity = :entity, #ttl = if_not_exists(#ttl, :ttl) ADD #total :amount',
      ConditionExpression: 'attribute_not_exists(#total) OR #total <= :max',
      ExpressionAttributeNames: {
        '#entity': 'entity',
        '#ttl': 'ttl',
        '#total': dailyTotalAttribute(part.request.currency),
      },
      ExpressionAttributeValues: {
        ':entity': 'RISK_COUNTER',
        ':ttl': ttlSeconds(new Date(now.getTime() + keep)),
        ':amount': part.amountMinor,
        ':max': part.capMinor - part.amountMinor,
      },
    },
  };
}

/**
 * A subject's activity: `ADD` one to each counted window (and the IP / device to the payer's sets, its running
 * average's count and sum), `REMOVE` windows no rule reads any more. Atomic adds commute, so no concurrent payment's
 * count is lost and no condition is needed.
 */
export function activityItem(tableName: string, writes: RiskWrites, activity: ActivityWrite, now: Date): TransactItem {
  const names: Record<string, string> = { '#entity': 'entity', '#ttl': 'ttl' };
  const values: Record<string, unknown> = {
    ':entity': 'RISK_ACTIVITY',
    ':ttl': ttlSeconds(new Date(now.getTime() + activity.keepSeconds * 1000)),
  };
  const adds: string[] = [];
  let n = 0;
  const add = (attribute: string, value: unknown) => {
    n++;
    names[`#a${n}`] = attribute;
    values[`:a${n}`] = value;
    adds.push(`#a${n} :a${n}`);
  };
  for (const window of activity.counts) add(`v_${window}`, 1);
  for (const { window, value } of activity.ips) add(`ip_${window}`, new Set([value]));
  for (const { window, value } of activity.devices) add(`dv_${window}`, new Set([value]));
  if (activity.average) {
    add(`n_${writes.currency}`, 1);
    add(`s_${writes.currency}`, writes.amountMinor);
  }
  const removes = activity.stale.flatMap((window) =>
    ['v', 'ip', 'dv'].map((prefix) => {
      n++;
      names[`#r${n}`] = `${prefix}_${window}`;
      return `#r${n}`;
    }),
  );
  const key =
    activity.subject === 'payer'
      ? riskKeys.payerActivity(writes.merchantId, activity.value)
      : riskKeys.subjectActivity(activity.subject, activity.value);
  return {
    Update: {
      TableName: tableName,
      Key: key,
      UpdateExpression: [
        'SET #entity = :entity, #ttl = :ttl',
        adds.length ? `ADD ${adds.join(', ')}` : '',
        removes.length ? `REMOVE ${removes.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/** A held payment's entry in the review queue; it expires a day after the payment does. */
export function reviewItem(tableName: string, review: NonNullable<RiskWrites['review']>): TransactItem {
  return {
    Put: {
      TableName: tableName,
      Item: {
        ...riskKeys.review(review.createdAt, review.paymentId),
        entity: 'RISK_REVIEW',
        paymentId: review.paymentId,
        ttl: ttlSeconds(new Date(Date.parse(review.expiresAt) + DAY_MS)),
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

/**
 * A counter moved by a payment's transition (a limit or the channel's daily volume, given back or taken again):
 * unconditional, since the transition itself is the conditional write that makes it happen exactly once.
 */
export function counterDeltaItem(tableName: string, delta: CounterDelta): TransactItem {
  const key =
    delta.kind === 'limit'
      ? counterKey(delta.reservation, delta.shard)
      : channelKeys.daily(delta.channel, delta.day, delta.shard);
  const currency = delta.kind === 'limit' ? delta.reservation.currency : delta.currency;
  return {
    Update: {
      TableName: tableName,
      Key: key,
      UpdateExpression: 'ADD #total :delta',
      ExpressionAttributeNames: { '#total': dailyTotalAttribute(currency) },
      ExpressionAttributeValues: { ':delta': delta.deltaMinor },
    },
  };
}
