export const EVENT_TYPES = [
  'payment.succeeded',
  'payment.failed',
  'payment.closed',
  'refund.succeeded',
  'refund.failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * An outbox event: written in the same transaction as the state change it announces, delivered to the merchant's
 * `notify_url` afterwards (at least once).
 */
export interface OutboxEvent {
  id: string;
  type: EventType;
  merchantId: string;
  paymentId?: string;
  refundId?: string;
  notifyUrl?: string;
  createdAt: string;
  /** Its GSI1 shard count: its payment's or refund's (absent on events stored before: the default). */
  listingShards?: number;
  /** The payment or refund object exactly as the merchant will receive it. */
  data: Record<string, unknown>;
}
