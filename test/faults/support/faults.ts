import type { DynamoDBRecord } from 'aws-lambda';
import type { ExpiryCounts } from './timers.ts';

/**
 * Where the gateway process kills itself (SIGKILL, so nothing of it runs afterwards: no `finally`, no flush).
 *
 * - `before-commit` / `after-commit`: around the ONE `TransactWriteItems` that writes the item `entity` whose `field`
 *   is `value` with status `status` — e.g. the callback's commit of a payment `SUCCEEDED`: `before` is "after the
 *   channel answered, before the commit", `after` is "after the commit, before the response". A routed payment's
 *   daily-volume reservation (its record, no status) is named by its amount: `after` is "reserved, not created".
 * - `relay-before` / `relay-after`: around the outbox relay's handling of a stream batch holding the insert of the
 *   event `eventType` of payment `paymentId` (before it reached the queue; after it did but before the stream
 *   position moved past it).
 * - `channel-answered`: after the channel's HTTP answer to a `method` request on `path` whose body holds
 *   `bodyIncludes` reached the process, before the process acted on it — e.g. WeChat Pay accepted a refund
 *   (`PROCESSING`), the gateway never heard of it and never answered the merchant.
 */
export type Fault =
  | {
      at: 'before-commit' | 'after-commit';
      entity: 'PAYMENT' | 'REFUND';
      field: 'id' | 'orderNo' | 'refundNo';
      value: string;
      status: string;
    }
  | { at: 'after-commit'; entity: 'VOLUME_RESERVATION'; field: 'amountMinor'; value: number }
  | { at: 'relay-before' | 'relay-after'; paymentId: string; eventType: string }
  | { at: 'channel-answered'; method: string; path: string; bodyIncludes: string };

/**
 * Messages the test sends the gateway process: arm a fault; run the minute timers' task over `buckets` with a clock
 * `aheadMs` ahead (what the order-expiry state machine's task does when its minute has passed).
 */
export type ToGateway = { type: 'arm'; fault: Fault } | { type: 'expire'; buckets: string[]; aheadMs: number };

/** Messages the gateway process sends the test. */
export type FromGateway =
  | { type: 'ready'; apiBase: string }
  | { type: 'armed' }
  | { type: 'expired'; counts: ExpiryCounts[] }
  | { type: 'expire-failed'; error: string };

/** The line the gateway process writes (synchronously) to stderr just before it kills itself. */
export function faultLine(fault: Fault): string {
  return `FAULT ${JSON.stringify(fault)}`;
}

/** Whether a `TransactWriteItems` input (document form) writes the item the commit fault names. */
export function commitMatches(fault: Fault, input: unknown): boolean {
  if (fault.at !== 'before-commit' && fault.at !== 'after-commit') return false;
  const items = (input as { TransactItems?: { Put?: { Item?: Record<string, unknown> } }[] }).TransactItems ?? [];
  return items.some(({ Put }) => {
    const item = Put?.Item;
    const status = 'status' in fault ? fault.status : undefined;
    return item?.entity === fault.entity && item[fault.field] === fault.value && item.status === status;
  });
}

/** Whether a stream batch holds the event insert the relay fault names. */
export function relayMatches(fault: Fault, records: DynamoDBRecord[]): boolean {
  if (fault.at !== 'relay-before' && fault.at !== 'relay-after') return false;
  return records.some((record) => {
    const image = record.dynamodb?.NewImage;
    return (
      record.eventName === 'INSERT' &&
      image?.entity?.S === 'EVENT' &&
      image.paymentId?.S === fault.paymentId &&
      image.type?.S === fault.eventType
    );
  });
}

/** Whether a channel request (method, URL, body) is the one the `channel-answered` fault names. */
export function channelCallMatches(fault: Fault, request: { method: string; url: string; body: string }): boolean {
  if (fault.at !== 'channel-answered') return false;
  return (
    request.method === fault.method &&
    new URL(request.url).pathname === fault.path &&
    request.body.includes(fault.bodyIncludes)
  );
}
