import type { EventType, OutboxEvent } from '#domain/events.ts';
import type { Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { paymentResource, refundResource } from '#http/resources.ts';

/** The event announcing a payment's transition; its `data` is the payment object exactly as the API shows it. */
export function paymentEvent(
  id: string,
  type: Extract<EventType, `payment.${string}`>,
  payment: Payment,
  now: Date,
): OutboxEvent {
  return {
    id,
    type,
    merchantId: payment.merchantId,
    paymentId: payment.id,
    notifyUrl: payment.notifyUrl,
    createdAt: now.toISOString(),
    ...(payment.listingShards === undefined ? {} : { listingShards: payment.listingShards }),
    data: paymentResource(payment, now),
  };
}

/** The event announcing a refund's result; it goes to the refunded payment's `notify_url`. */
export function refundEvent(
  id: string,
  type: Extract<EventType, `refund.${string}`>,
  refund: Refund,
  payment: Payment,
  now: Date,
): OutboxEvent {
  return {
    id,
    type,
    merchantId: refund.merchantId,
    paymentId: payment.id,
    refundId: refund.id,
    notifyUrl: payment.notifyUrl,
    createdAt: now.toISOString(),
    ...(refund.listingShards === undefined ? {} : { listingShards: refund.listingShards }),
    data: refundResource(refund),
  };
}
