import type { CapacityMeter, MeteredCall } from './capacity-meter.ts';
import { accountFor, amountFor, type FlowTarget, runPaymentFlow } from './flows.ts';
import { refundNoFor, runRefundFlow, verifyRefundedBalances } from './refund-flows.ts';

/** The metered DynamoDB calls of a number of recharge-and-full-refund cycles. */
export interface CapacitySample {
  cycles: number;
  calls: readonly MeteredCall[];
}

/**
 * Runs `cycles` recharge-and-full-refund cycles one after another on one account, with every DynamoDB call the
 * handlers make metered and attributed to the request that made it. A cycle is the recharge flow (POST /v1/payments,
 * payment callback, GET balance) followed by the full refund of that recharge (POST /v1/refunds, refund callback,
 * GET /v1/refunds/{id}). Sequential on purpose: nothing else runs, so every call belongs to the marked request.
 * The account must be back at 0.00 available / 0.00 frozen at the end.
 */
export async function runCapacitySample(
  target: FlowTarget,
  meter: CapacityMeter,
  cycles: number,
): Promise<CapacitySample> {
  const run = 'capacity';
  const accountId = accountFor(run, 0);
  for (let cycle = 0; cycle < cycles; cycle++) {
    const mark = meter.mark.bind(meter, cycle);
    try {
      const amountMinor = amountFor(cycle);
      const orderNo = `${run}-${cycle}`;
      const paymentId = await runPaymentFlow(target, { orderNo, accountId, amountMinor, before: 0 }, mark);
      const payment = { index: cycle, paymentId, accountId, amountMinor };
      await runRefundFlow(target, { refundNo: refundNoFor(run, payment), payment }, mark);
    } finally {
      meter.stop();
    }
  }
  await verifyRefundedBalances(target, new Map([[accountId, 0]]));
  return { cycles, calls: [...meter.calls] };
}
