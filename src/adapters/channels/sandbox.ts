import type { ChannelCallback, ChannelPrepay, PaymentChannel, RefundSubmission } from '#app/ports.ts';
import { currencySchema, parseInput, parseJsonText } from '#app/validation.ts';
import { parseAmount } from '#domain/money.ts';
import type { ChannelPaymentResult, Payment } from '#domain/payment.ts';
import type { ChannelRefundResult, Refund } from '#domain/refund.ts';
import { verifySandboxCallback } from '#domain/signing.ts';
import { AuthError } from '#shared/errors.ts';
import * as z from '#shared/zod.ts';
import type { SandboxStore } from './sandbox-store.ts';

/** The sandbox channel's trade number of a payment. */
export function sandboxTradeNo(paymentId: string): string {
  return `sbx_${paymentId.slice(4)}`;
}

/** The sandbox channel's payment callback body, exactly as API.md defines it. */
export const sandboxPaymentCallbackSchema = z.strictObject({
  payment_id: z.string().check(z.regex(/^pay_[A-Za-z0-9]{1,64}$/)),
  channel_trade_no: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/)),
  status: z.enum(['SUCCESS', 'FAILED']),
  amount: z.string(),
  currency: currencySchema,
  paid_at: z.optional(z.iso.datetime()),
});

/** The sandbox channel's refund callback body: `{refund_id, status}`. */
export const sandboxRefundCallbackSchema = z.strictObject({
  refund_id: z.string().check(z.regex(/^ref_[A-Za-z0-9]{1,64}$/)),
  status: z.enum(['SUCCESS', 'FAILED']),
  channel_refund_no: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/))),
});

/**
 * The built-in sandbox channel: payers pay on the gateway's own cashier page, refunds are decided on the sandbox
 * refund page, and results come back as HMAC-signed callbacks. It takes every method but BALANCE and every currency,
 * so local runs and tests exercise the full flow.
 */
export class SandboxChannel implements PaymentChannel {
  readonly code = 'SANDBOX' as const;

  constructor(
    private readonly publicBaseUrl: string,
    private readonly secret: () => Promise<string>,
    private readonly store: SandboxStore,
  ) {}

  supports(method: Payment['method']): boolean {
    return method !== 'BALANCE';
  }

  async createPayment(payment: Payment): Promise<ChannelPrepay> {
    const payUrl = `${this.publicBaseUrl}/sandbox/checkout/${payment.id}`;
    return { payUrl, qrCode: payUrl };
  }

  async queryPayment(payment: Payment): Promise<ChannelPaymentResult | undefined> {
    const record = await this.store.getPayment(payment.id);
    if (!record || record.status === 'CLOSED') return undefined;
    return {
      paymentId: payment.id,
      status: record.status === 'SUCCESS' ? 'SUCCEEDED' : 'FAILED',
      amountMinor: record.amountMinor,
      currency: record.currency,
      channelTradeNo: record.channelTradeNo,
      paidAt: record.decidedAt,
    };
  }

  async closePayment(payment: Payment): Promise<'closed' | 'paid'> {
    const standing = await this.store.decidePayment({
      paymentId: payment.id,
      status: 'CLOSED',
      amountMinor: payment.amountMinor,
      currency: payment.currency,
      channelTradeNo: sandboxTradeNo(payment.id),
      decidedAt: new Date().toISOString(),
    });
    return standing.status === 'SUCCESS' ? 'paid' : 'closed';
  }

  async refund(refund: Refund): Promise<RefundSubmission> {
    const channelRefundNo = `sbxr_${refund.id.slice(4)}`;
    await this.store.submitRefund({
      refundId: refund.id,
      amountMinor: refund.amountMinor,
      currency: refund.currency,
      channelRefundNo,
    });
    return { status: 'PROCESSING', channelRefundNo };
  }

  async queryRefund(refund: Refund): Promise<ChannelRefundResult | undefined> {
    const record = await this.store.getRefund(refund.id);
    if (!record || record.status === 'PROCESSING') return undefined;
    return {
      refundId: refund.id,
      status: record.status === 'SUCCESS' ? 'SUCCEEDED' : 'FAILED',
      channelRefundNo: record.channelRefundNo,
    };
  }

  /** Signature first: nothing of an unverified body is parsed or trusted. */
  async verifyAndParseCallback(request: {
    headers: Record<string, string | undefined>;
    body: string;
  }): Promise<ChannelCallback> {
    const signature = request.headers['x-sandbox-signature'] ?? '';
    if (!verifySandboxCallback(await this.secret(), request.body, signature)) {
      throw new AuthError('CALLBACK_SIGNATURE_INVALID', 'X-Sandbox-Signature does not verify');
    }
    const json = parseJsonText(request.body, 'callback body');
    if (typeof json === 'object' && json !== null && 'refund_id' in json) {
      const body = parseInput(sandboxRefundCallbackSchema, json);
      return {
        kind: 'refund',
        result: {
          refundId: body.refund_id,
          status: body.status === 'SUCCESS' ? 'SUCCEEDED' : 'FAILED',
          channelRefundNo: body.channel_refund_no,
        },
      };
    }
    const body = parseInput(sandboxPaymentCallbackSchema, json);
    return {
      kind: 'payment',
      result: {
        paymentId: body.payment_id,
        status: body.status === 'SUCCESS' ? 'SUCCEEDED' : 'FAILED',
        amountMinor: parseAmount(body.amount, body.currency).minor,
        currency: body.currency,
        channelTradeNo: body.channel_trade_no,
        paidAt: body.paid_at ? new Date(body.paid_at).toISOString() : undefined,
      },
    };
  }
}
