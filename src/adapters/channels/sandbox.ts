import { z } from 'zod';
import type { ChannelPrepay, PaymentChannel } from '#app/ports.ts';
import { currencySchema, parseInput } from '#app/validation.ts';
import { parseAmount } from '#domain/money.ts';
import type { ChannelPaymentResult, Payment } from '#domain/payment.ts';
import { verifySandboxCallback } from '#domain/signing.ts';
import { AuthError, ValidationError } from '#shared/errors.ts';

/** The sandbox channel's callback body, exactly as API.md defines it. */
const sandboxPaymentCallback = z.strictObject({
  payment_id: z.string().regex(/^pay_[A-Za-z0-9]{1,64}$/),
  channel_trade_no: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  status: z.enum(['SUCCESS', 'FAILED']),
  amount: z.string(),
  currency: currencySchema,
  paid_at: z.iso.datetime().optional(),
});

/**
 * The built-in sandbox channel: pays through the gateway's own cashier page and reports results with an
 * HMAC-signed callback. It takes every method and currency, so local runs and tests exercise the full flow.
 */
export class SandboxChannel implements PaymentChannel {
  readonly code = 'SANDBOX' as const;

  constructor(
    private readonly publicBaseUrl: string,
    private readonly secret: () => Promise<string>,
  ) {}

  supports(method: Payment['method']): boolean {
    return method !== 'BALANCE';
  }

  async createPayment(payment: Payment): Promise<ChannelPrepay> {
    const payUrl = `${this.publicBaseUrl}/sandbox/checkout/${payment.id}`;
    return { payUrl, qrCode: payUrl };
  }

  /** Signature first: nothing of an unverified body is parsed or trusted. */
  async verifyAndParseCallback(request: {
    headers: Record<string, string | undefined>;
    body: string;
  }): Promise<ChannelPaymentResult> {
    const signature = request.headers['x-sandbox-signature'] ?? '';
    if (!verifySandboxCallback(await this.secret(), request.body, signature)) {
      throw new AuthError('CALLBACK_SIGNATURE_INVALID', 'X-Sandbox-Signature does not verify');
    }
    let json: unknown;
    try {
      json = JSON.parse(request.body);
    } catch {
      throw new ValidationError('INVALID_JSON', 'callback body is not valid JSON');
    }
    const body = parseInput(sandboxPaymentCallback, json);
    return {
      paymentId: body.payment_id,
      status: body.status === 'SUCCESS' ? 'SUCCEEDED' : 'FAILED',
      amountMinor: parseAmount(body.amount, body.currency).minor,
      currency: body.currency,
      channelTradeNo: body.channel_trade_no,
      paidAt: body.paid_at ? new Date(body.paid_at).toISOString() : undefined,
    };
  }
}
