import type { PaymentChannel } from '#app/ports.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { Channel } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { NotFoundError } from '#shared/errors.ts';
import { logger } from '#shared/observability.ts';
import { type ApplyRefundDeps, applyRefundResult } from './apply-refund-result.ts';

/**
 * A merchant's refund (another merchant's is a 404). A refund still `PROCESSING` is first synchronised with the
 * channel's query API, and a final answer is applied exactly once like a callback would be.
 */
export async function getRefund(
  deps: ApplyRefundDeps & { channels: ReadonlyMap<Channel, PaymentChannel> },
  merchant: Merchant,
  refundId: string,
): Promise<Refund> {
  const refund = await deps.refunds.get(refundId);
  if (!refund || refund.merchantId !== merchant.id) throw new NotFoundError(`refund ${refundId} not found`);
  if (refund.status !== 'PROCESSING') return refund;
  try {
    const result = await deps.channels.get(refund.channel)?.queryRefund(refund);
    return result ? (await applyRefundResult(deps, result, refund.channel)).refund : refund;
  } catch (error) {
    // The query is an optimisation of freshness; the stored state is still correct to show.
    logger.warn('refund status query failed', { refund_id: refund.id, error: String(error) });
    return refund;
  }
}
