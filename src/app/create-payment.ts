import type { ChannelPrepay, IdempotencyRepository, PaymentChannel, PaymentRepository } from '#app/ports.ts';
import { DEFAULT_MAX_AMOUNT, DEFAULT_MIN_AMOUNT, type Merchant } from '#domain/merchant.ts';
import { formatAmount, limitToMinor } from '#domain/money.ts';
import type { Channel, Payment } from '#domain/payment.ts';
import { ConflictError, ValidationError } from '#shared/errors.ts';
import { type CreatePaymentBody, paymentParameters } from './payment-schemas.ts';
import { requestHash } from './request-hash.ts';
import { pickChannel } from './routing.ts';

export interface CreatePaymentDeps {
  payments: PaymentRepository;
  idempotency: IdempotencyRepository;
  channels: ReadonlyMap<Channel, PaymentChannel>;
  clock: () => Date;
  newPaymentId: () => string;
}

export interface CreatePaymentResult {
  payment: Payment;
  /** True when an earlier identical request created it (answer 200 + `Idempotent-Replayed: true`). */
  replayed: boolean;
}

/**
 * Creates a payment, idempotently.
 *
 * Input: the authenticated merchant, the validated body, an optional `Idempotency-Key`.
 * Output: the payment, and whether this was a replay.
 * 1. Check the amount against the merchant's limits and choose the channel.
 * 2. If the idempotency key or `(merchant, order_no)` is known: same parameters → replay; different → 409.
 * 3. Ask the channel how the payer pays (pay URL / QR code).
 * 4. Write payment + order guard + idempotency claim in ONE transaction; a lost race re-reads the winner (step 2).
 */
export async function createPayment(
  deps: CreatePaymentDeps,
  merchant: Merchant,
  body: CreatePaymentBody,
  idempotencyKey?: string,
): Promise<CreatePaymentResult> {
  assertWithinLimits(merchant, body);
  const channel = pickChannel(deps.channels, body);
  const hash = requestHash(paymentParameters(body, channel.code));

  const earlier = await findEarlier(deps, merchant.id, body.order_no, hash, idempotencyKey);
  if (earlier) return earlier;

  const now = deps.clock();
  const draft: Payment = {
    id: deps.newPaymentId(),
    merchantId: merchant.id,
    orderNo: body.order_no,
    status: 'PENDING',
    amountMinor: body.amountMinor,
    currency: body.currency,
    subject: body.subject,
    description: body.description ?? undefined,
    channel: channel.code,
    method: body.method ?? 'QR',
    accountId: body.account_id ?? undefined,
    payerAccountId: body.payer_account_id ?? undefined,
    notifyUrl: body.notify_url ?? merchant.notifyUrl,
    returnUrl: body.return_url ?? undefined,
    metadata: body.metadata,
    refundedMinor: 0,
    late: false,
    expiresAt: new Date(now.getTime() + body.expire_in_seconds * 1000).toISOString(),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    requestHash: hash,
    version: 1,
  };
  const prepay: ChannelPrepay = await channel.createPayment(draft);
  const payment: Payment = { ...draft, payUrl: prepay.payUrl, qrCode: prepay.qrCode };
  const claim = idempotencyKey
    ? { merchantId: merchant.id, key: idempotencyKey, requestHash: hash, resourceId: payment.id }
    : undefined;

  const outcome = await deps.payments.create(payment, claim);
  if (outcome.created) return { payment, replayed: false };

  const winner = await findEarlier(deps, merchant.id, body.order_no, hash, idempotencyKey);
  if (winner) return winner;
  // The guard that blocked us expired between the write and the re-read (24 h idempotency TTL): safe to retry.
  throw new ConflictError('REQUEST_IN_PROGRESS', 'a concurrent request with the same keys is in progress; retry');
}

async function findEarlier(
  deps: CreatePaymentDeps,
  merchantId: string,
  orderNo: string,
  hash: string,
  idempotencyKey: string | undefined,
): Promise<CreatePaymentResult | undefined> {
  const records = await Promise.all([
    idempotencyKey ? deps.idempotency.find(merchantId, idempotencyKey) : undefined,
    deps.payments.findByOrderNo(merchantId, orderNo),
  ]);
  const record = records.find((candidate) => candidate !== undefined);
  if (!record) return undefined;
  if (records.some((candidate) => candidate && candidate.requestHash !== hash)) {
    throw new ConflictError('IDEMPOTENCY_CONFLICT', 'this key was already used with different parameters', {
      order_no: orderNo,
    });
  }
  const payment = await deps.payments.get(record.resourceId);
  if (!payment) throw new Error(`guard points to a missing payment ${record.resourceId}`);
  return { payment, replayed: true };
}

function assertWithinLimits(merchant: Merchant, body: CreatePaymentBody): void {
  const min = limitToMinor(merchant.minAmount ?? DEFAULT_MIN_AMOUNT, body.currency, 'up');
  const max = limitToMinor(merchant.maxAmount ?? DEFAULT_MAX_AMOUNT, body.currency, 'down');
  if (body.amountMinor < min || body.amountMinor > max) {
    throw new ValidationError(
      'AMOUNT_INVALID',
      `amount must be between ${formatAmount(min, body.currency)} and ${formatAmount(max, body.currency)}`,
      { min: formatAmount(min, body.currency), max: formatAmount(max, body.currency) },
    );
  }
}
