// Long because it holds sections 1 and 3: the recharge and refund flows, the balance check, the percentiles, and the
// child-process runner the section 6 and 8 samples use.
import { spawn } from 'node:child_process';
import { formatAmount } from '#domain/money.ts';
import { signSandboxCallback } from '#domain/signing.ts';
import { childProcessEnv } from '../local/lambda-context.ts';
import type { MerchantClient } from '../local/merchant-client.ts';
import type { BenchOptions } from './run.ts';

/** The currency of every benchmark flow. */
export const CURRENCY = 'CNY';

/** Where the flows run: the gateway, a merchant's signing client, and the sandbox channel's secret. */
export type FlowTarget = { apiBase: string; merchant: MerchantClient; sandboxSecret: string };

/** The HTTP requests of a recharge flow and of a refund flow, in order (the capacity sample attributes calls to them). */
const RECHARGE_STEPS = ['create payment', 'payment callback', 'balance read'] as const;
export const FLOW_STEPS = [...RECHARGE_STEPS, 'create refund', 'refund callback', 'refund read'] as const;
export type FlowStep = (typeof FLOW_STEPS)[number];
type MarkStep = (step: FlowStep) => void;

/** A recharge a flow created, paid and saw credited. */
export type PaidRecharge = { index: number; paymentId: string; accountId: string; amountMinor: number };

/**
 * What a batch of recharge flows did; `credited` is each (fresh) account's expected balance, `expectedTotalMinor` the
 * sum of every flow's amount computed from the flow indexes alone (independently of `credited`).
 */
export type FlowRun = { flows: number; elapsedMs: number; nodeCpuMs: number; latenciesMs: number[] } & {
  credited: Map<string, number>;
  expectedTotalMinor: number;
  payments: PaidRecharge[];
};

/** Latency percentiles of a run (ms), as printed and as BENCH_RESULT reports them. */
export type Latency = { p50: number; p95: number; p99: number; mean: number; max: number };

/** Nearest-rank p50/p95/p99, mean and max of `values`. */
export function summarize(values: readonly number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { p50: at(50) ?? Number.NaN, p95: at(95) ?? Number.NaN, p99: at(99) ?? Number.NaN, mean, max: at(100) ?? 0 };
}

export const perSecond = (count: number, elapsedMs: number) => (elapsedMs > 0 ? (count * 1000) / elapsedMs : 0);

/** Times `work` in wall-clock and in this process's CPU (the local gateway, its handlers and the clients). */
export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; elapsedMs: number; nodeCpuMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return { result, elapsedMs: performance.now() - started, nodeCpuMs: (used.user + used.system) / 1000 };
}

/**
 * Runs tasks `0 … count-1` on `concurrency` workers, each running its tasks one after another (so a worker can own an
 * account). The first failure stops every worker from taking new tasks and is rethrown once the others settle.
 */
type Task = (index: number, worker: number) => Promise<void>;
export async function runPool(count: number, concurrency: number, task: Task): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (id: number) => {
    while (!failure && next < count) {
      await task(next++, id).catch((error: unknown) => {
        failure ??= { error };
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, id) => worker(id)));
  if (failure) throw failure.error;
}

/** 1.00 … 99.99 CNY, varied so a lost or doubled credit shows in the sum. */
export const amountFor = (index: number) => 100 + ((index * 7919) % 9900);
/** One account per client and run, so clients never contend for one hot wallet. */
export const accountFor = (run: string, client: number) => `bench-${run}-c${String(client).padStart(2, '0')}`;
export const refundNoFor = (run: string, payment: PaidRecharge) => `RF-${run}-${payment.index}`;

/**
 * Runs `count` recharge flows on `concurrency` clients, each crediting its own account. With `previous` (a run of the
 * same name) the flows continue it — the next indexes, the same accounts — and the result is the two runs added up.
 */
export async function runFlows(
  target: FlowTarget,
  options: { run: string; count: number; concurrency: number },
  previous?: FlowRun,
): Promise<FlowRun> {
  const latenciesMs = [...(previous?.latenciesMs ?? [])];
  const credited = new Map(previous?.credited);
  const payments = [...(previous?.payments ?? [])];
  const first = previous?.flows ?? 0;
  const { elapsedMs, nodeCpuMs } = await timed(() =>
    runPool(options.count, options.concurrency, async (offset, client) => {
      const index = first + offset;
      const accountId = accountFor(options.run, client);
      const before = credited.get(accountId) ?? 0;
      const amountMinor = amountFor(index);
      const started = performance.now();
      const orderNo = `${options.run}-${index}`;
      const paymentId = await runPaymentFlow(target, { orderNo, accountId, amountMinor, before });
      latenciesMs.push(performance.now() - started);
      credited.set(accountId, before + amountMinor);
      payments.push({ index, paymentId, accountId, amountMinor });
    }),
  );
  payments.sort((a, b) => a.index - b.index);
  const flows = first + options.count;
  const expectedTotalMinor = Array.from({ length: flows }, (_, i) => amountFor(i)).reduce((a, b) => a + b, 0);
  const spent = {
    elapsedMs: elapsedMs + (previous?.elapsedMs ?? 0),
    nodeCpuMs: nodeCpuMs + (previous?.nodeCpuMs ?? 0),
  };
  return { flows, ...spent, latenciesMs, credited, expectedTotalMinor, payments };
}

/**
 * One recharge: POST /v1/payments (201) → signed sandbox SUCCESS callback (200) → GET balance (200), which must show
 * exactly `before` + the amount. Returns the payment id; `mark` is told each step before its request is sent.
 */
type RechargeFlow = { orderNo: string; accountId: string; amountMinor: number; before: number };
export async function runPaymentFlow(target: FlowTarget, flow: RechargeFlow, mark?: MarkStep): Promise<string> {
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
  const callback = await postSandboxCallback(target, {
    payment_id: id,
    channel_trade_no: `sbx_${id.slice(4, 20)}`,
    status: 'SUCCESS',
    amount,
    currency: CURRENCY,
    paid_at: new Date().toISOString(),
  });
  expectStatus(callback, 200, `POST /v1/callbacks/sandbox (${id})`);
  mark?.('balance read');
  const { available } = await readWallet(target, flow.accountId);
  const expected = formatAmount(flow.before + flow.amountMinor, CURRENCY);
  if (available !== expected) {
    throw new Error(`balance of ${flow.accountId} after ${flow.orderNo} is ${available}, expected ${expected}`);
  }
  return id;
}

/**
 * Fully refunds each payment once, one worker per account (as many clients as the recharges had, never two racing
 * for one wallet): POST /v1/refunds (201 PROCESSING) → signed refund SUCCESS callback (200) → GET refund (SUCCEEDED).
 */
export async function runRefunds(target: FlowTarget, run: string, payments: readonly PaidRecharge[]) {
  const byAccount = new Map<string, PaidRecharge[]>();
  for (const payment of payments)
    byAccount.set(payment.accountId, [...(byAccount.get(payment.accountId) ?? []), payment]);
  const queues = [...byAccount.values()];
  const latenciesMs: number[] = [];
  const timing = await timed(() =>
    runPool(queues.length, queues.length, async (queue) => {
      for (const payment of queues[queue] ?? []) {
        const started = performance.now();
        await runRefundFlow(target, { refundNo: refundNoFor(run, payment), payment });
        latenciesMs.push(performance.now() - started);
      }
    }),
  );
  const refundedMinor = payments.reduce((sum, payment) => sum + payment.amountMinor, 0);
  return { ...timing, refunds: payments.length, accounts: byAccount.size, latenciesMs, refundedMinor };
}

/** One full refund of a paid recharge; `mark` is told each step before its request is sent. */
type RefundFlow = { refundNo: string; payment: PaidRecharge };
export async function runRefundFlow(target: FlowTarget, flow: RefundFlow, mark?: MarkStep): Promise<void> {
  const { payment, refundNo } = flow;
  const amount = formatAmount(payment.amountMinor, CURRENCY);
  mark?.('create refund');
  const body = { payment_id: payment.paymentId, amount };
  const created = await target.merchant.request('POST', '/v1/refunds', { ...body, refund_no: refundNo });
  expectStatus(created, 201, `POST /v1/refunds (${refundNo})`, { ...body, status: 'PROCESSING' });
  const id = String(created.body.id);
  mark?.('refund callback');
  const callback = await postSandboxCallback(target, { refund_id: id, status: 'SUCCESS' });
  expectStatus(callback, 200, `POST /v1/callbacks/sandbox (${id})`);
  mark?.('refund read');
  const settled = await target.merchant.request('GET', `/v1/refunds/${id}`);
  expectStatus(settled, 200, `GET /v1/refunds/${id}`, { status: 'SUCCEEDED', amount });
}

/** GET /v1/accounts/{id}/balance (must answer 200): `available` and `frozen` as the API formats them. */
async function readWallet(target: FlowTarget, accountId: string): Promise<{ available: string; frozen: string }> {
  const path = `/v1/accounts/${encodeURIComponent(accountId)}/balance?currency=${CURRENCY}`;
  const balance = await target.merchant.request('GET', path);
  expectStatus(balance, 200, `GET ${path}`);
  return { available: String(balance.body.available), frozen: String(balance.body.frozen) };
}

/**
 * The balance check: every account holds exactly `expected` available (minor units) and, with `noneFrozen`, nothing
 * frozen — a credit or refund lost, doubled or left half-done shows here. Returns the accounts' total; throws on any
 * difference.
 */
export async function verifyBalances(target: FlowTarget, expected: ReadonlyMap<string, number>, noneFrozen = false) {
  let total = 0;
  for (const [accountId, minor] of expected) {
    const wallet = await readWallet(target, accountId);
    const want = formatAmount(minor, CURRENCY);
    if (wallet.available !== want || (noneFrozen && wallet.frozen !== formatAmount(0, CURRENCY))) {
      throw new Error(`${accountId} holds ${wallet.available} available / ${wallet.frozen} frozen, expected ${want}`);
    }
    total += minor;
  }
  return total;
}

/** Section 1's figures (BENCH_RESULT `flow`), once the measured run's balances are verified. */
export async function rechargeFigures(target: FlowTarget, run: FlowRun, options: BenchOptions) {
  const total = await verifyRecharges(target, run);
  return {
    payments: run.flows,
    warmup: options.warmup,
    concurrency: options.concurrency,
    accounts: run.credited.size,
    account_scheme: 'one account per client',
    elapsed_ms: run.elapsedMs,
    payments_per_s: perSecond(run.flows, run.elapsedMs),
    latency_ms: summarize(run.latenciesMs),
    node_cpu_ms: run.nodeCpuMs,
    verified: true,
    total_credited_cny: formatAmount(total, CURRENCY),
  };
}

/** Every account holds its credits, and the credits add up to what the flows paid. */
export async function verifyRecharges(target: FlowTarget, run: FlowRun): Promise<number> {
  const total = await verifyBalances(target, run.credited);
  if (total === run.expectedTotalMinor) return total;
  throw new Error(`accounts hold ${total} minor units in total, the ${run.flows} flows paid ${run.expectedTotalMinor}`);
}

/**
 * Section 3 (BENCH_RESULT `refund`): refunds the warm-up recharges (excluded), then the first `options.refunds`
 * measured ones; every account must then hold exactly its unrefunded recharges and nothing frozen.
 */
export async function measureRefunds(
  target: FlowTarget,
  options: BenchOptions,
  runs: { warmup: FlowRun | undefined; measured: FlowRun },
) {
  const { warmup, measured } = runs;
  if (warmup) {
    await runRefunds(target, 'warmup', warmup.payments);
    await verifyBalances(target, remainingBalances(warmup.credited, warmup.payments), true);
  }
  const refunded = measured.payments.slice(0, options.refunds);
  const run = await runRefunds(target, 'measured', refunded);
  const remaining = await verifyBalances(target, remainingBalances(measured.credited, refunded), true);
  if (remaining !== measured.expectedTotalMinor - run.refundedMinor) {
    throw new Error(
      `accounts hold ${remaining} minor units after the refunds, expected ${measured.expectedTotalMinor} paid − ${run.refundedMinor} refunded`,
    );
  }
  return {
    refunds: run.refunds,
    of_payments: measured.flows,
    warmup: warmup?.flows ?? 0,
    concurrency: run.accounts,
    accounts: run.accounts,
    account_scheme: 'one account (and client) per payment-flow client',
    elapsed_ms: run.elapsedMs,
    refunds_per_s: perSecond(run.refunds, run.elapsedMs),
    latency_ms: summarize(run.latenciesMs),
    node_cpu_ms: run.nodeCpuMs,
    verified: true,
    total_refunded_cny: formatAmount(run.refundedMinor, CURRENCY),
    remaining_cny: formatAmount(remaining, CURRENCY),
  };
}

/** What each account should hold once `refunded` are refunded; throws for a refund of an account the run never credited. */
export function remainingBalances(credited: ReadonlyMap<string, number>, refunded: readonly PaidRecharge[]) {
  const remaining = new Map(credited);
  for (const payment of refunded) {
    const before = remaining.get(payment.accountId);
    if (before === undefined) throw new Error(`refunded ${payment.paymentId} credited an unknown account`);
    remaining.set(payment.accountId, before - payment.amountMinor);
  }
  return remaining;
}

/** Throws, naming the request and the answer, unless the status (and the given body fields) are as expected. */
function expectStatus(response: { status: number; body: unknown }, status: number, what: string, fields = {}): void {
  const body = response.body as Record<string, unknown>;
  if (response.status === status && Object.entries(fields).every(([field, value]) => body?.[field] === value)) return;
  throw new Error(
    `${what}: expected HTTP ${status} ${JSON.stringify(fields)}, got ${response.status} ${JSON.stringify(body)}`,
  );
}

/** POSTs a sandbox callback signed as the channel signs it: `X-Sandbox-Signature` = hex HMAC-SHA256 of the raw body. */
async function postSandboxCallback(target: FlowTarget, body: Record<string, unknown>) {
  const raw = JSON.stringify(body);
  const headers = {
    'content-type': 'application/json',
    'x-sandbox-signature': signSandboxCallback(target.sandboxSecret, raw),
  };
  const response = await fetch(`${target.apiBase}/v1/callbacks/sandbox`, { method: 'POST', headers, body: raw });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

/**
 * Runs a section's sample in a child process of its own (its own gateway container, or its own RSS) with tsx, its
 * configuration in one environment variable; rejects on a non-zero exit, or after `timeoutMs` saying `where` it was.
 */
type ChildOptions = { label: string; script: string; cwd: string; nodeArgs?: string[]; env: Record<string, string> };
export function runChild(options: ChildOptions & { timeoutMs: number; where?: () => string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...(options.nodeArgs ?? []), options.script], {
      cwd: options.cwd,
      env: { ...childProcessEnv(), ...options.env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      let where = 'not started';
      try {
        where = options.where?.() ?? where;
      } catch {}
      reject(new Error(`the ${options.label} did not finish within ${options.timeoutMs / 1000} s (at ${where})`));
    }, options.timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`the ${options.label} failed (exit ${code ?? signal}); its error is above`));
    });
  });
}
