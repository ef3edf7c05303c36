import { formatAmount } from '#domain/money.ts';
import type { ApiResponse, MerchantClient } from '../local/merchant-client.ts';
import { runPool } from './pool.ts';
import { postSandboxSuccess } from './sandbox-callback.ts';
import { cpuMsSince } from './stats.ts';

/** The currency of every benchmark flow. */
export const CURRENCY = 'CNY';

/** Where the flows run: the gateway, a merchant's signing client, and the sandbox channel's secret. */
export interface FlowTarget {
  apiBase: string;
  merchant: MerchantClient;
  sandboxSecret: string;
}

/** The HTTP requests of a recharge flow and of a refund flow, in order. */
export const FLOW_STEPS = [
  'create payment',
  'payment callback',
  'balance read',
  'create refund',
  'refund callback',
  'refund read',
] as const;

/** One HTTP request of a recharge or refund flow. */
export type FlowStep = (typeof FLOW_STEPS)[number];

/** Told the step a flow is about to send (the capacity sample attributes DynamoDB calls with it). */
export type MarkStep = (step: FlowStep) => void;

/** A recharge a flow created, paid and saw credited. */
export interface PaidRecharge {
  /** The flow's index in its run. */
  index: number;
  paymentId: string;
  accountId: string;
  amountMinor: number;
}

/** What a batch of flows did: wall time, each flow's latency, and what each account was credited. */
export interface FlowRun {
  flows: number;
  elapsedMs: number;
  /** CPU time of this process (the local gateway, its handlers and the clients all run in it) during the run. */
  nodeCpuMs: number;
  latenciesMs: number[];
  /** Account id → minor units credited by this run's flows (its expected balance: accounts are fresh per run). */
  credited: Map<string, number>;
  /** Sum of every flow's amount, computed from the flow indexes alone (independently of `credited`). */
  expectedTotalMinor: number;
  /** Every paid recharge, in flow-index order. */
  payments: PaidRecharge[];
}

/**
 * The amount of flow `index` in minor units: 1.00 … 99.99 CNY, varied so a lost or doubled credit shows in the sum.
 */
export function amountFor(index: number): number {
  return 100 + ((index * 7919) % 9900);
}

/** The account a client credits: one per client and run, so clients never contend for one hot wallet. */
export function accountFor(run: string, client: number): string {
  return `bench-${run}-c${String(client).padStart(2, '0')}`;
}

/**
 * Runs `count` recharge flows on `concurrency` clients. Each client runs its flows one after another against its own
 * account; a flow is POST /v1/payments (201) → signed sandbox SUCCESS callback (200) → GET balance (200), and the
 * balance it reads must equal the client's running total exactly. Any other answer fails the run.
 */
export async function runFlows(
  target: FlowTarget,
  options: { run: string; count: number; concurrency: number },
): Promise<FlowRun> {
  const latenciesMs: number[] = [];
  const credited = new Map<string, number>();
  const payments: PaidRecharge[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await runPool(options.count, options.concurrency, async (index, client) => {
    const accountId = accountFor(options.run, client);
    const before = credited.get(accountId) ?? 0;
    const amountMinor = amountFor(index);
    const flowStarted = performance.now();
    const paymentId = await runPaymentFlow(target, {
      orderNo: `${options.run}-${index}`,
      accountId,
      amountMinor,
      before,
    });
    latenciesMs.push(performance.now() - flowStarted);
    credited.set(accountId, before + amountMinor);
    payments.push({ index, paymentId, accountId, amountMinor });
  });
  payments.sort((a, b) => a.index - b.index);
  const elapsedMs = performance.now() - started;
  const nodeCpuMs = cpuMsSince(cpuBefore);
  let expectedTotalMinor = 0;
  for (let index = 0; index < options.count; index++) expectedTotalMinor += amountFor(index);
  return { flows: options.count, elapsedMs, nodeCpuMs, latenciesMs, credited, expectedTotalMinor, payments };
}

/**
 * One recharge flow: POST /v1/payments (201) → signed sandbox SUCCESS callback (200) → GET balance (200), which must
 * show exactly `before` + the amount. Returns the payment id. `mark` is told each step before its request is sent.
 */
export async function runPaymentFlow(
  target: FlowTarget,
  flow: { orderNo: string; accountId: string; amountMinor: number; before: number },
  mark?: MarkStep,
): Promise<string> {
  const amount = formatAmount(flow.amountMinor, CURRENCY);
  mark?.('create payment');
  const created = await target.merchant.request('POST', '/v1/payments', {
    order_no: flow.orderNo,
    amount,
    currency: CURRENCY,
    subject: 'Wallet recharge',
    channel: 'SANDBOX',
    method: 'QR',
    account_id: flow.accountId,
  });
  expectStatus(created, 201, `POST /v1/payments (${flow.orderNo})`);
  const id = String(created.body.id);
  mark?.('payment callback');
  const callback = await postSandboxSuccess(target.apiBase, target.sandboxSecret, { id, amount, currency: CURRENCY });
  expectStatus(callback, 200, `POST /v1/callbacks/sandbox (${id})`);
  mark?.('balance read');
  const available = await readBalance(target, flow.accountId);
  const expected = formatAmount(flow.before + flow.amountMinor, CURRENCY);
  if (available !== expected) {
    throw new Error(`balance of ${flow.accountId} after ${flow.orderNo} is ${available}, expected ${expected}`);
  }
  return id;
}

/** GET /v1/accounts/{id}/balance (must answer 200); returns `available` as the API formats it. */
export async function readBalance(target: FlowTarget, accountId: string): Promise<string> {
  return (await readWallet(target, accountId)).available;
}

/** GET /v1/accounts/{id}/balance (must answer 200); returns `available` and `frozen` as the API formats them. */
export async function readWallet(
  target: FlowTarget,
  accountId: string,
): Promise<{ available: string; frozen: string }> {
  const path = `/v1/accounts/${encodeURIComponent(accountId)}/balance?currency=${CURRENCY}`;
  const balance = await target.merchant.request('GET', path);
  expectStatus(balance, 200, `GET ${path}`);
  return { available: String(balance.body.available), frozen: String(balance.body.frozen) };
}

/**
 * Re-reads every account a run credited and checks each balance against its credits, and the sum of the credits
 * against the sum of the flows' amounts. Returns the verified total in minor units; throws on any difference.
 */
export async function verifyBalances(target: FlowTarget, run: FlowRun): Promise<number> {
  let total = 0;
  for (const [accountId, minor] of run.credited) {
    const available = await readBalance(target, accountId);
    if (available !== formatAmount(minor, CURRENCY)) {
      throw new Error(`final balance of ${accountId} is ${available}, expected ${formatAmount(minor, CURRENCY)}`);
    }
    total += minor;
  }
  if (total !== run.expectedTotalMinor) {
    throw new Error(
      `accounts hold ${total} minor units in total, the ${run.flows} flows paid ${run.expectedTotalMinor}`,
    );
  }
  return total;
}

/** Throws, naming the request and the answer, unless the response has the expected HTTP status. */
export function expectStatus(
  response: Pick<ApiResponse<unknown>, 'status' | 'body'>,
  expected: number,
  what: string,
): void {
  if (response.status !== expected) {
    throw new Error(`${what}: expected HTTP ${expected}, got ${response.status} ${JSON.stringify(response.body)}`);
  }
}
