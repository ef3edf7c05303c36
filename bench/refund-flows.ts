import { formatAmount } from '#domain/money.ts';
import { CURRENCY, expectStatus, type FlowTarget, type MarkStep, type PaidRecharge, readWallet } from './flows.ts';
import { runQueues } from './pool.ts';
import { postSandboxRefundResult } from './sandbox-callback.ts';
import { cpuMsSince } from './stats.ts';

/** What a batch of refund flows did. */
export interface RefundRun {
  refunds: number;
  /** Accounts the refunded recharges had credited (one worker each). */
  accounts: number;
  elapsedMs: number;
  /** CPU time of this process (the local gateway, its handlers and the clients all run in it) during the run. */
  nodeCpuMs: number;
  latenciesMs: number[];
  /** Sum of the refunded amounts in minor units. */
  refundedMinor: number;
}

/** The refund number of a recharge's full refund: unique per merchant, like the order number it mirrors. */
export function refundNoFor(run: string, payment: PaidRecharge): string {
  return `RF-${run}-${payment.index}`;
}

/**
 * Fully refunds each of `payments` exactly once. The recharges are grouped by the account they credited and each
 * account gets one worker that refunds its recharges one after another — with accounts owned by one client each,
 * as in the recharge flows, this runs on as many concurrent clients and never makes two clients race for one
 * wallet. A flow is POST /v1/refunds (201, PROCESSING) → signed sandbox refund SUCCESS callback (200) →
 * GET /v1/refunds/{id} (200, SUCCEEDED); any other answer fails the run.
 */
export async function runRefunds(
  target: FlowTarget,
  options: { run: string; payments: readonly PaidRecharge[] },
): Promise<RefundRun> {
  const byAccount = new Map<string, PaidRecharge[]>();
  for (const payment of options.payments) {
    byAccount.set(payment.accountId, [...(byAccount.get(payment.accountId) ?? []), payment]);
  }
  const latenciesMs: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await runQueues([...byAccount.values()], async (payment) => {
    const flowStarted = performance.now();
    await runRefundFlow(target, { refundNo: refundNoFor(options.run, payment), payment });
    latenciesMs.push(performance.now() - flowStarted);
  });
  return {
    refunds: options.payments.length,
    accounts: byAccount.size,
    elapsedMs: performance.now() - started,
    nodeCpuMs: cpuMsSince(cpuBefore),
    latenciesMs,
    refundedMinor: options.payments.reduce((sum, payment) => sum + payment.amountMinor, 0),
  };
}

/**
 * One full refund of a paid recharge: POST /v1/refunds for the whole amount (201, `PROCESSING`) → the sandbox
 * channel's signed `SUCCESS` callback (200) → GET /v1/refunds/{id} (200, `SUCCEEDED`). `mark` is told each step
 * before its request is sent.
 */
export async function runRefundFlow(
  target: FlowTarget,
  flow: { refundNo: string; payment: PaidRecharge },
  mark?: MarkStep,
): Promise<void> {
  const amount = formatAmount(flow.payment.amountMinor, CURRENCY);
  mark?.('create refund');
  const created = await target.merchant.request('POST', '/v1/refunds', {
    payment_id: flow.payment.paymentId,
    refund_no: flow.refundNo,
    amount,
  });
  const what = `POST /v1/refunds (${flow.refundNo})`;
  expectStatus(created, 201, what);
  expectFields(created.body, { status: 'PROCESSING', amount, payment_id: flow.payment.paymentId }, what);
  const id = String(created.body.id);
  mark?.('refund callback');
  const callback = await postSandboxRefundResult(target.apiBase, target.sandboxSecret, { id, status: 'SUCCESS' });
  expectStatus(callback, 200, `POST /v1/callbacks/sandbox (${id})`);
  mark?.('refund read');
  const settled = await target.merchant.request('GET', `/v1/refunds/${id}`);
  expectStatus(settled, 200, `GET /v1/refunds/${id}`);
  expectFields(settled.body, { status: 'SUCCEEDED', amount }, `GET /v1/refunds/${id}`);
}

/**
 * Re-reads every account and checks that it holds exactly `expected` (minor units) available and nothing frozen:
 * a refund taken twice, lost, or left half-done (frozen) shows here. Throws on any difference.
 */
export async function verifyRefundedBalances(target: FlowTarget, expected: ReadonlyMap<string, number>): Promise<void> {
  const zero = formatAmount(0, CURRENCY);
  for (const [accountId, minor] of expected) {
    const wallet = await readWallet(target, accountId);
    const available = formatAmount(minor, CURRENCY);
    if (wallet.available !== available || wallet.frozen !== zero) {
      throw new Error(
        `after the refunds ${accountId} holds ${wallet.available} available / ${wallet.frozen} frozen, ` +
          `expected ${available} / ${zero}`,
      );
    }
  }
}

/**
 * What each account should hold once `refunded` are refunded: what the run credited it minus its refunded
 * recharges. Throws if a refunded recharge was not among the run's credits.
 */
export function remainingBalances(
  credited: ReadonlyMap<string, number>,
  refunded: readonly PaidRecharge[],
): Map<string, number> {
  const remaining = new Map(credited);
  for (const payment of refunded) {
    const before = remaining.get(payment.accountId);
    if (before === undefined) throw new Error(`refunded ${payment.paymentId} credited an unknown account`);
    remaining.set(payment.accountId, before - payment.amountMinor);
  }
  return remaining;
}

function expectFields(body: Record<string, unknown>, expected: Record<string, string>, what: string): void {
  for (const [field, value] of Object.entries(expected)) {
    if (body[field] !== value) {
      throw new Error(`${what}: expected ${field} ${value}, got ${JSON.stringify(body)}`);
    }
  }
}
