import { randomInt } from 'node:crypto';
import { expect } from 'vitest';
import { sandboxTradeNo } from '#adapters/channels/sandbox.ts';
import type { Container } from '#adapters/container.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { createPayment } from '#app/create-payment.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { parseInput } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Payment } from '#domain/payment.ts';
import type { BillRecord } from './bills.ts';
import { uniqueId } from './fixtures.ts';

/** A channel-day no other test uses: the buckets are shared, and keys are per channel-day. */
export function uniqueDate(): string {
  return new Date(Date.UTC(2300 + randomInt(600), 0, 1 + randomInt(365))).toISOString().slice(0, 10);
}

/** `second` seconds after the UTC midnight that starts `date`. */
export const at = (date: string, second: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + second * 1000).toISOString();

/** A new PENDING sandbox payment of `amount` (crediting wallet `accountId` when paid, if given). */
export async function pendingPayment(container: Container, merchant: Merchant, amount: string, accountId?: string) {
  const body = parseInput(createPaymentSchema({ allowLoopbackHttp: false }), {
    order_no: uniqueId('O'),
    amount,
    subject: 'recon',
    channel: 'SANDBOX',
    ...(accountId ? { account_id: accountId } : {}),
  });
  const { payment } = (await createPayment(container, merchant, body)) as unknown as { payment: Payment };
  return payment;
}

/** Pays a payment at the sandbox channel at `paidAt`; `apply` also records it in the gateway (a normal callback). */
export async function payAtChannel(container: Container, payment: Payment, paidAt: string, apply: boolean) {
  await container.sandboxStore.decidePayment({
    paymentId: payment.id,
    status: 'SUCCESS',
    amountMinor: payment.amountMinor,
    currency: payment.currency,
    channelTradeNo: sandboxTradeNo(payment.id),
    decidedAt: paidAt,
  });
  if (!apply) return;
  const channel = container.channels.get('SANDBOX');
  const result = channel && (await channel.queryPayment(payment));
  if (!result) throw new Error('the sandbox should report the payment');
  await applyPaymentResult(container, result, 'SANDBOX');
}

/** The sandbox bill line of a payment (fee 0.06 unless overridden). */
export function line(payment: Payment, occurredAt: string, overrides: Partial<BillRecord> = {}): BillRecord {
  return {
    kind: 'PAYMENT',
    gatewayId: payment.id,
    paymentId: payment.id,
    channelTradeNo: sandboxTradeNo(payment.id),
    amountMinor: payment.amountMinor,
    feeMinor: 6,
    status: 'SUCCESS',
    occurredAt,
    subject: 'recon',
    ...overrides,
  };
}

/** A report file's text, downloaded through a presigned URL. */
export async function readText(container: Container, key: string): Promise<string> {
  const response = await fetch(await container.files.presignReport(key));
  expect(response.status).toBe(200);
  return response.text();
}
