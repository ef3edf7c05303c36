import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContainer, getContainer } from '#adapters/container.ts';
import { createMerchant } from '#app/merchant-admin.ts';
import { formatAmount } from '#domain/money.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { MerchantClient } from '../local/merchant-client.ts';
import { loadLocalSecrets, type RunningStack, startLocalStack } from '../local/stack.ts';
import { measureBundles } from './bundles.ts';
import { formatChannelBench, runChannelBench } from './channels.ts';
import { DynamoCallRecorder } from './dynamo-recorder.ts';
import { type FlowRun, type FlowTarget, runFlows, verifyBalances } from './flows.ts';
import { measureNotificationCost } from './notification-cost.ts';
import type { BenchOptions } from './options.ts';
import { replayWrites } from './raw-writes.ts';
import { measureReconciliation, printReconciliationSection } from './reconciliation.ts';
import { measureCapacity, measureRefunds } from './refund-measure.ts';
import {
  type FlowFigures,
  printBundleSection,
  printFlowSection,
  printRefundSection,
  printWriteSection,
  type WriteFigures,
} from './report.ts';
import { printCapacitySection } from './report-capacity.ts';
import { printNotificationSection } from './report-notifications.ts';
import type { BenchResult, NotificationsOnlyResult, ReconciliationOnlyResult } from './result-json.ts';
import { perSecond, summarize } from './stats.ts';

const MERCHANT_ID = 'mch_bench';

/** What the sections measured on the local stack report. */
type StackResult = Omit<BenchResult, 'bundles' | 'notifications' | 'channels' | 'reconciliation'>;

/**
 * Runs the measurements and prints them: full recharge flows on the local stack (section 1), the same writes
 * replayed raw against the same DynamoDB Local (section 2), the full refund of those recharges (section 3), the
 * DynamoDB capacity of a recharge-and-full-refund cycle (section 4), the Lambda bundle sizes (section 5), and the
 * cost of notifications and expiry timers (section 6), callback verification and routing (section 7), and the
 * reconciliation of a 1,000,000-line bill (section 8). The stack runs in this process on a free port with throw-away
 * secrets in a temp dir, and is stopped however the run ends.
 */
export async function runBenchmark(projectRoot: string, options: BenchOptions): Promise<BenchResult> {
  console.log(
    `pay-gateway benchmark: ${options.payments} flows (+${options.warmup} warm-up), ` +
      `${options.concurrency} clients, then ${options.refunds} refunds and ${options.capacityCycles} metered ` +
      `cycles, then ${options.notifySample} payments' notifications and timers, Node ${process.version}, ` +
      `${availableParallelism()} CPUs`,
  );
  const stack = await measureOnLocalStack(projectRoot, options);
  const bundles = await measureBundles(projectRoot);
  printBundleSection(bundles);
  const { notifications } = await runNotificationSection(projectRoot, options);
  const channels = await runChannelBench({});
  console.log(`\n${formatChannelBench(channels)}`);
  const { reconciliation } = await runReconciliationSection(projectRoot, options);
  return { ...stack, bundles, notifications, channels, reconciliation };
}

/**
 * Section 8 (alone with `BENCH_ONLY=reconciliation`): the real reconcileDay use case over a generated
 * BENCH_RECON_LINES-line bill, in a child process with a capped heap (see reconciliation.ts).
 */
export async function runReconciliationSection(
  projectRoot: string,
  options: BenchOptions,
): Promise<ReconciliationOnlyResult> {
  if (options.only === 'reconciliation') {
    console.log(
      `pay-gateway benchmark, reconciliation only: ${options.reconLines} lines, Node ${process.version}, ` +
        `${availableParallelism()} CPUs`,
    );
  }
  const reconciliation = await measureReconciliation(projectRoot, options);
  printReconciliationSection(reconciliation);
  return { reconciliation };
}

/**
 * Section 6 (alone with `BENCH_ONLY=notifications`): the notification sample runs in a process of its own (its own
 * gateway container, table, queues and workflows) on a DynamoDB Local started for it. Not the stack's: DynamoDB
 * Local's writes to (and stream reads of) a stream-enabled table slow down with every stream record the instance
 * holds, of any table (≈13 ms → ≈70 ms per PutItem with 60,000 records elsewhere), and after sections 1 to 4 the
 * sample's payments would be created at a few per second instead of dozens.
 */
export async function runNotificationSection(
  projectRoot: string,
  options: BenchOptions,
): Promise<NotificationsOnlyResult> {
  if (options.only === 'notifications') {
    console.log(
      `pay-gateway benchmark, notifications only: ${options.notifySample} payments, Node ${process.version}, ` +
        `${availableParallelism()} CPUs`,
    );
  }
  const dynamo = await startDynamoDbLocal();
  try {
    const notifications = await measureNotificationCost(projectRoot, options, dynamo.endpoint);
    printNotificationSection(notifications);
    return { notifications };
  } finally {
    await dynamo.stop();
  }
}

/** Sections 1 to 4, on a local stack started for them and stopped however they end. */
async function measureOnLocalStack(projectRoot: string, options: BenchOptions): Promise<StackResult> {
  const secretsDir = mkdtempSync(join(tmpdir(), 'pay-gateway-bench-'));
  let stack: RunningStack | undefined;
  try {
    const secrets = loadLocalSecrets(secretsDir);
    stack = await startLocalStack({ projectRoot, port: 0, secrets });
    const target: FlowTarget = {
      apiBase: stack.apiBase,
      merchant: await seedMerchant(stack.apiBase),
      sandboxSecret: secrets.sandboxSecret,
    };
    return await measureStack(target, options);
  } finally {
    if (stack) getContainer().db.destroy();
    await stack?.stop();
    rmSync(secretsDir, { recursive: true, force: true });
  }
}

/** Creates the benchmark merchant (as `npm start` seeds its demo merchant) and returns its signing client. */
async function seedMerchant(apiBase: string): Promise<MerchantClient> {
  const container = createContainer();
  try {
    const { secret } = await createMerchant(container, { id: MERCHANT_ID, name: 'Benchmark merchant' });
    return new MerchantClient({ apiBase, merchantId: MERCHANT_ID, merchantSecret: secret });
  } finally {
    container.db.destroy();
  }
}

/**
 * Sections 1 to 4: warm-up, measured recharge flows with the handlers' DynamoDB calls recorded, the raw replay, the
 * refunds of the recharges (warm-up ones first), then the metered capacity sample.
 */
async function measureStack(target: FlowTarget, options: BenchOptions): Promise<StackResult> {
  // The handlers run in this process and share the module-level container, so instrumenting it sees their calls.
  const recorder = new DynamoCallRecorder();
  recorder.attach(getContainer().db);
  let warmup: FlowRun | undefined;
  if (options.warmup > 0) {
    warmup = await runFlows(target, { run: 'warmup', count: options.warmup, concurrency: options.concurrency });
    await verifyBalances(target, warmup);
  }
  recorder.start();
  const run = await runFlows(target, { run: 'measured', count: options.payments, concurrency: options.concurrency });
  recorder.stop();
  const flow = flowFigures(run, options, await verifyBalances(target, run));
  printFlowSection(flow);
  const writes = await measureWrites(recorder, run, options.concurrency);
  printWriteSection(writes);
  const refund = await measureRefunds(target, options, { warmup, measured: run });
  printRefundSection(refund);
  const capacity = await measureCapacity(target, options.capacityCycles);
  printCapacitySection(capacity);
  return { flow, writes, refund, capacity };
}

function flowFigures(run: FlowRun, options: BenchOptions, totalMinor: number): FlowFigures {
  return {
    flows: run.flows,
    warmup: options.warmup,
    concurrency: options.concurrency,
    accounts: run.credited.size,
    elapsedMs: run.elapsedMs,
    nodeCpuMs: run.nodeCpuMs,
    paymentsPerSecond: perSecond(run.flows, run.elapsedMs),
    latency: summarize(run.latenciesMs),
    totalCredited: formatAmount(totalMinor, 'CNY'),
  };
}

/**
 * Replays the measured flows' writes raw and compares the rates.
 *
 * The ratio flow-writes/s ÷ raw-writes/s is the share of DynamoDB Local's raw write capacity (same calls, same mix,
 * same items, same concurrency) that the full flow achieves. `1 − ratio` is what the gateway spends on top of the
 * writes: the HTTP round trips (client and local gateway share this process, and this process shares the 2 cores
 * with the DynamoDB Local JVM), the API Gateway event mapping, middy and Powertools, merchant authentication
 * (merchant read, cached secret decryption, HMAC), zod validation, the reads (GetItem/Query, in the printed table)
 * and the JSON responses. A ratio near 1 would mean the flow is bound by DynamoDB writes; a low ratio means the work
 * around the writes dominates.
 */
async function measureWrites(recorder: DynamoCallRecorder, run: FlowRun, concurrency: number): Promise<WriteFigures> {
  const writes = recorder.writes;
  if (writes.length === 0) {
    throw new Error('no DynamoDB write was recorded: the handlers do not share the instrumented container');
  }
  const raw = await replayWrites(writes, concurrency);
  const flowWritesPerSecond = perSecond(writes.length, run.elapsedMs);
  const rawWritesPerSecond = perSecond(raw.calls, raw.elapsedMs);
  return {
    counts: new Map(recorder.counts),
    flows: run.flows,
    writeCalls: writes.length,
    writeItems: raw.items,
    flowElapsedMs: run.elapsedMs,
    flowWritesPerSecond,
    rawElapsedMs: raw.elapsedMs,
    rawNodeCpuMs: raw.nodeCpuMs,
    rawWritesPerSecond,
    rawLatency: summarize(raw.latenciesMs),
    ratio: flowWritesPerSecond / rawWritesPerSecond,
  };
}
