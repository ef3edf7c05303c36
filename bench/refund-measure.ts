import { getContainer } from '#adapters/container.ts';
import { formatAmount } from '#domain/money.ts';
import { type CapacityFigures, capacityFigures } from './capacity-figures.ts';
import { CapacityMeter } from './capacity-meter.ts';
import { runCapacitySample } from './capacity-sample.ts';
import { CURRENCY, type FlowRun, type FlowTarget } from './flows.ts';
import type { BenchOptions } from './options.ts';
import { remainingBalances, runRefunds, verifyRefundedBalances } from './refund-flows.ts';
import type { RefundFigures } from './report.ts';
import { ScratchItemMeter } from './scratch-item-meter.ts';
import { perSecond, summarize } from './stats.ts';

/**
 * Section 3: refunds the warm-up recharges (excluded), then the first `options.refunds` measured recharges once each,
 * and checks every account afterwards: exactly its unrefunded recharges available, nothing frozen, and the accounts'
 * total equal to the paid total minus the refunded total.
 */
export async function measureRefunds(
  target: FlowTarget,
  options: BenchOptions,
  runs: { warmup: FlowRun | undefined; measured: FlowRun },
): Promise<RefundFigures> {
  if (runs.warmup) {
    await runRefunds(target, { run: 'warmup', payments: runs.warmup.payments });
    await verifyRefundedBalances(target, remainingBalances(runs.warmup.credited, runs.warmup.payments));
  }
  const measured = runs.measured;
  const refunded = measured.payments.slice(0, options.refunds);
  const run = await runRefunds(target, { run: 'measured', payments: refunded });
  const remaining = remainingBalances(measured.credited, refunded);
  await verifyRefundedBalances(target, remaining);
  const remainingMinor = [...remaining.values()].reduce((sum, minor) => sum + minor, 0);
  if (remainingMinor !== measured.expectedTotalMinor - run.refundedMinor) {
    throw new Error(
      `accounts hold ${remainingMinor} minor units after the refunds, expected ` +
        `${measured.expectedTotalMinor} paid − ${run.refundedMinor} refunded`,
    );
  }
  return {
    refunds: run.refunds,
    payments: measured.flows,
    warmup: runs.warmup?.flows ?? 0,
    concurrency: run.accounts,
    accounts: run.accounts,
    elapsedMs: run.elapsedMs,
    nodeCpuMs: run.nodeCpuMs,
    refundsPerSecond: perSecond(run.refunds, run.elapsedMs),
    latency: summarize(run.latenciesMs),
    totalRefunded: formatAmount(run.refundedMinor, CURRENCY),
    remaining: formatAmount(remainingMinor, CURRENCY),
  };
}

/**
 * Section 4: meters the handlers' DynamoDB calls (they share this process's container) over `cycles` sequential
 * recharge-and-full-refund cycles, re-measuring transaction items in a scratch table.
 */
export async function measureCapacity(target: FlowTarget, cycles: number): Promise<CapacityFigures> {
  const container = getContainer();
  const items = await ScratchItemMeter.create(container.config.tableName);
  try {
    const meter = new CapacityMeter(items);
    meter.attach(container.db);
    const sample = await runCapacitySample(target, meter, cycles);
    return capacityFigures(sample.cycles, sample.calls);
  } finally {
    items.destroy();
  }
}
