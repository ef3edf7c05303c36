import type { PaymentRepository } from '#app/ports.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import { NotFoundError } from '#shared/errors.ts';

/** A merchant's payment by id; another merchant's payment is indistinguishable from a missing one (404). */
export async function getPayment(
  deps: { payments: PaymentRepository },
  merchant: Merchant,
  paymentId: string,
): Promise<Payment> {
  const payment = await deps.payments.get(paymentId);
  if (!payment || payment.merchantId !== merchant.id) throw new NotFoundError(`payment ${paymentId} not found`);
  return payment;
}

/** A merchant's payment by its `order_no`. */
export async function getPaymentByOrderNo(
  deps: { payments: PaymentRepository },
  merchant: Merchant,
  orderNo: string,
): Promise<Payment> {
  const guard = await deps.payments.findByOrderNo(merchant.id, orderNo);
  if (!guard) throw new NotFoundError(`no payment with order_no ${orderNo}`);
  return getPayment(deps, merchant, guard.resourceId);
}
