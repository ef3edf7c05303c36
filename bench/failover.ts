/**
 * Section 9: a channel outage seen by a fleet. C containers — each with its own breaker cache and DynamoDB client, all
 * on one table in a DynamoDB Local started for it — create routed payments at once while ALIPAY (weight 4) fails every
 * create and WECHAT_PAY (weight 1) takes them. Per breaker-cache TTL, with failover on and off (budget 0 is the old
 * behaviour: the first outage is the merchant's 503): how many payments met the dead channel, how many failed for the
 * merchant, when the last container stopped trying it, and what the breaker state costs per payment.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ChannelUnavailableError } from '#adapters/channels/channel-errors.ts';
import { DynamoChannelHealthRepository } from '#adapters/dynamo/channel-health-repository.ts';
import { DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import { DynamoDailyVolumeRepository } from '#adapters/dynamo/daily-volume-repository.ts';
import { prepayWithFailover } from '#app/channel-failover.ts';
import type { PaymentChannel } from '#app/ports.ts';
import { type ChannelRouter, routeCandidates } from '#app/routing.ts';
import { DEFAULT_BREAKER_CONFIG } from '#domain/circuit-breaker.ts';
import type { Channel, Payment } from '#domain/payment.ts';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { createGatewayTable } from '../local/tables.ts';
import { fakeChannel } from '../test/support/channel-fakes.ts';
import { heading, indent, num, table, wrap } from './report.ts';

const CONTAINERS = 8;
const PAYMENTS_PER_CONTAINER = 60;
/** Each container's pace: one payment every 10 ms, ~100/s per container (the channel calls take 5 ms). */
const PACE_MS = 10;
const CALL_MS = 5;
const TTLS_MS = [0, 250, 1000, 5000];
/** The default thresholds, with a cool-down longer than a run: every "met" is a payment the fleet had not yet learnt. */
const NO_PROBE = { ...DEFAULT_BREAKER_CONFIG, coolDownMs: 3_600_000 };
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const request = { method: 'QR' as const, currency: 'CNY', amountMinor: 10_000 };

type Outcome = { at: number; container: number; metDeadChannel: boolean; failed: boolean };

/** A channel that takes every payment, or fails every create as an HTTP 500 would (`met` sees each try). */
function benchChannel(code: Channel, dead: boolean, met: () => void): PaymentChannel {
  return fakeChannel(code, ['QR'], ['CNY'], async () => {
    await sleep(CALL_MS);
    if (!dead) return {};
    met();
    throw new ChannelUnavailableError(code, 'http_status', 'HTTP 500', 500);
  });
}

/** One run: a fresh table, C containers paying concurrently; returns each payment's outcome and the reads made. */
async function runFleet(endpoint: string, cacheTtlMs: number, failover: boolean) {
  const admin = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  const tableName = `bench-failover-${cacheTtlMs}-${failover}-${Date.now()}`;
  await createGatewayTable(admin, tableName);
  const seedDb = DynamoDBDocumentClient.from(admin, { marshallOptions: { removeUndefinedValues: true } });
  const seedProfiles = new DynamoChannelProfileRepository(seedDb, tableName);
  for (const [channel, weight] of [
    ['ALIPAY', 4],
    ['WECHAT_PAY', 1],
  ] as const) {
    const profile = { channel, enabled: true, weight, methods: ['QR' as const], currencies: ['CNY'] };
    await seedProfiles.put({ ...profile, secretRef: channel, settings: {}, updatedAt: new Date().toISOString() }, null);
  }
  const outcomes: Outcome[] = [];
  let dynamoCalls = 0;
  const started = performance.now();
  const clients: DynamoDBClient[] = [];
  const container = async (index: number) => {
    const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS });
    clients.push(client);
    client.middlewareStack.add(
      (next) => async (args) => {
        dynamoCalls++;
        return next(args);
      },
      { step: 'initialize', name: 'countDynamoCalls' },
    );
    const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    let met = false;
    const router: ChannelRouter = {
      channels: new Map<Channel, PaymentChannel>([
        ['ALIPAY', benchChannel('ALIPAY', true, () => (met = true))],
        ['WECHAT_PAY', benchChannel('WECHAT_PAY', false, () => undefined)],
      ]),
      profiles: new DynamoChannelProfileRepository(db, tableName, { cacheTtlMs: 3_600_000 }),
      health: new DynamoChannelHealthRepository(db, tableName, { cacheTtlMs, breaker: NO_PROBE }),
      volume: new DynamoDailyVolumeRepository(db, tableName),
      clock: () => new Date(),
    };
    for (let i = 0; i < PAYMENTS_PER_CONTAINER; i++) {
      met = false;
      const draftFor = (channel: PaymentChannel) => ({ id: `pay_${index}_${i}`, channel: channel.code }) as Payment;
      const failed = await prepayWithFailover(
        { router, clock: router.clock },
        await routeCandidates(router, { ...request, paymentId: `pay_${index}_${i}` }),
        request,
        draftFor,
        failover ? undefined : 0,
      ).then(
        () => false,
        () => true,
      );
      outcomes.push({ at: performance.now() - started, container: index, metDeadChannel: met, failed });
      await sleep(PACE_MS);
    }
  };
  try {
    await Promise.all(Array.from({ length: CONTAINERS }, (_, index) => container(index)));
  } finally {
    for (const client of clients) client.destroy();
    admin.destroy();
  }
  const met = outcomes.filter((outcome) => outcome.metDeadChannel);
  const lastMet = Math.max(0, ...met.map((outcome) => outcome.at));
  return {
    cacheTtlMs,
    failover,
    payments: outcomes.length,
    metDeadChannel: met.length,
    merchantFailures: outcomes.filter((outcome) => outcome.failed).length,
    containersThatMetIt: new Set(met.map((outcome) => outcome.container)).size,
    lastMetAtMs: lastMet,
    dynamoCallsPerPayment: dynamoCalls / outcomes.length,
  };
}

/** Measures and prints section 9; returns BENCH_RESULT `failover`. */
export async function measureFailover() {
  const local = await startDynamoDbLocal();
  const runs = [];
  try {
    for (const cacheTtlMs of TTLS_MS)
      for (const failover of [false, true]) runs.push(await runFleet(local.endpoint, cacheTtlMs, failover));
  } finally {
    await local.stop();
  }
  console.log(heading('9. A channel outage across a fleet: failover and breaker propagation'));
  console.log(
    `${indent(
      wrap(
        `${CONTAINERS} containers (own breaker cache and DynamoDB client each, one DynamoDB Local table) create ` +
          `${PAYMENTS_PER_CONTAINER} routed payments each, one every ${PACE_MS} ms, while ALIPAY (weight 4) answers ` +
          `HTTP 500 to every create and WECHAT_PAY (weight 1) takes them. "met" = payments that tried ALIPAY; ` +
          '"failed" = the merchant saw 503; DynamoDB calls = every call a container made per payment (breaker reads, ' +
          'outcome records and their re-reads; the profiles are cached). Failover off = budget 0, the behaviour before failover.',
        116,
      ),
    )}\n`,
  );
  const rows = runs.map((run) => [
    `${num(run.cacheTtlMs)} ms`,
    run.failover ? 'on' : 'off',
    num(run.payments),
    num(run.metDeadChannel),
    num(run.merchantFailures),
    `${num(run.containersThatMetIt)} / ${CONTAINERS}`,
    `${num(run.lastMetAtMs)} ms`,
    num(run.dynamoCallsPerPayment, 2),
  ]);
  const columns = ['cache TTL', 'failover', '>payments', '>met ALIPAY', '>failed', '>containers', '>last met at'];
  console.log(`${table([...columns, '>DynamoDB calls/payment'], rows)}\n`);
  return { containers: CONTAINERS, paymentsPerContainer: PAYMENTS_PER_CONTAINER, paceMs: PACE_MS, runs };
}
