import type { ChannelCallback, ChannelPrepay, PaymentChannel, RefundSubmission } from '#app/ports.ts';
import type { Payment } from '#domain/payment.ts';
import type { ChannelRefundResult, Refund } from '#domain/refund.ts';
import { NotFoundError } from '#shared/errors.ts';

/**
 * The wallet balance as a channel. Payments settle synchronously inside the gateway's own transaction (see
 * `createPayment`), and a refund is final the moment it is submitted: the payer is credited in the Confirm step.
 */
export class BalanceChannel implements PaymentChannel {
  readonly code = 'BALANCE' as const;

  supports(method: Payment['method']): boolean {
    return method === 'BALANCE';
  }

  async createPayment(): Promise<ChannelPrepay> {
    return {};
  }

  /** Balance payments are final when created; there is never an open order to query or close. */
  async queryPayment(): Promise<undefined> {
    return undefined;
  }

  async closePayment(): Promise<'closed'> {
    return 'closed';
  }

  async refund(refund: Refund): Promise<RefundSubmission> {
    return { status: 'SUCCEEDED', channelRefundNo: refund.id };
  }

  async queryRefund(refund: Refund): Promise<ChannelRefundResult> {
    return { refundId: refund.id, status: 'SUCCEEDED', channelRefundNo: refund.id };
  }

  async verifyAndParseCallback(): Promise<ChannelCallback> {
    throw new NotFoundError('the balance channel sends no callbacks');
  }
}
