// Section 10 (BENCH_RESULT `rate_limits`): the fleet-wide rate limiter's accuracy and DynamoDB cost per request.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { DynamoRateLimitStore } from '#adapters/dynamo/rate-limit-store.ts';
import { RateLimiter } from '#app/rate-limiter.ts';
import { leaseCap, maxOvershoot } from '#domain/rate-limit.ts';
import { loadConfig } from '#shared/config.ts';
import { heading, num, table } from './report.ts';

const CLIENTS = 16;
const BURST_MS = 10_000;
/** Low enough that DynamoDB Local on a busy machine can serve the leases a 10 s burst needs. */
const POLICY = { rate: 50, burst: 100 };

/** One 10 s burst: what was admitted against what the bucket allows, and what it cost in DynamoDB. */
export type RateLimitFigures = Awaited<ReturnType<typeof burst>>;

/**
 * 16 containers (limiter instances, each with its own DynamoDB client and leases, as 16 Lambda execution
 * environments would be) each hammer one merchant's write bucket (50/s, burst 100) with a closed loop
 * of requests for 10 s, once with the default lease size and once leasing single tokens. Admissions are compared with
 * the bucket's `burst + rate × elapsed`; every rate-limit `UpdateItem` is metered with `ReturnConsumedCapacity`.
 */
export async function measureRateLimits(): Promise<RateLimitFigures[]> {
  return [await burst(10), await burst(1)];
}

async function burst(leaseSize: number) {
  const { tableName } = loadConfig();
  const merchant = { id: `mch_bench_rl_${leaseSize}_${Date.now()}`, rateLimits: { write: POLICY } };
  const meter = { updates: 0, failed: 0, units: 0, ms: 0 };
  const settings = { write: POLICY, read: POLICY, leaseSize };
  const containers = Array.from({ length: CLIENTS }, () => {
    const db = createDocumentClient();
    db.middlewareStack.add(
      (next) => async (args) => {
        meter.updates++;
        const sent = performance.now();
        try {
          const result = await next({ ...args, input: { ...(args.input as object), ReturnConsumedCapacity: 'TOTAL' } });
          const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity }).ConsumedCapacity;
          meter.units += consumed?.CapacityUnits ?? 0;
          return result;
        } catch (error) {
          // A failed condition is billed one write unit, like the update it refused.
          meter.failed++;
          meter.units += 1;
          throw error;
        } finally {
          meter.ms += performance.now() - sent;
        }
      },
      { step: 'initialize', name: 'benchRateLimitMeter' },
    );
    const limiter = new RateLimiter(
      new DynamoRateLimitStore(db, tableName),
      settings,
      () => new Date(),
      (error) => {
        throw error;
      },
    );
    return { db, limiter };
  });
  let requests = 0;
  let admitted = 0;
  const started = performance.now();
  const end = started + BURST_MS;
  try {
    await Promise.all(
      containers.map(async ({ limiter }) => {
        while (performance.now() < end) {
          requests++;
          if ((await limiter.admit(merchant, 'write')).admitted) admitted++;
          // A refusal is answered locally without I/O: yield so the 16 loops and the leases share the event loop.
          await sleep(1);
        }
      }),
    );
  } finally {
    for (const { db } of containers) db.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const configured = POLICY.burst + POLICY.rate * seconds;
  return {
    clients: CLIENTS,
    lease_size: leaseCap(POLICY, leaseSize),
    seconds,
    requests,
    admitted,
    configured,
    overshoot_bound: maxOvershoot(CLIENTS, leaseCap(POLICY, leaseSize)),
    admitted_per_configured: admitted / configured,
    update_items: meter.updates,
    failed_conditions: meter.failed,
    write_units: meter.units,
    units_per_request: meter.units / requests,
    units_per_admitted: meter.units / admitted,
    ms_per_update: meter.ms / meter.updates,
  };
}

/** Prints section 10 (measured with the local stack's DynamoDB Local, printed after section 9). */
export function printRateLimitSection(figures: RateLimitFigures[]): void {
  console.log(heading(`10. Rate limiter: ${CLIENTS} containers hammer one merchant (50/s, burst 100) for 10 s`));
  console.log(
    table(
      [
        'lease',
        '>requests',
        '>admitted',
        '>configured',
        '>bound',
        '>admitted/configured',
        '>UpdateItem (failed)',
        '>WCU/request',
        '>WCU/admitted',
        '>ms/UpdateItem',
      ],
      figures.map((f) => [
        `${f.lease_size} token${f.lease_size === 1 ? '' : 's'}`,
        num(f.requests),
        num(f.admitted),
        num(f.configured),
        `+${num(f.overshoot_bound)}`,
        num(f.admitted_per_configured, 3),
        `${num(f.update_items)} (${num(f.failed_conditions)})`,
        num(f.units_per_request, 4),
        num(f.units_per_admitted, 3),
        num(f.ms_per_update, 1),
      ]),
    ),
  );
  console.log(
    '  configured = burst + rate × elapsed; bound = most admissions beyond it in any window (16 × (lease − 1));\n' +
      '  a refused request costs no DynamoDB call once its container has seen the bucket empty.',
  );
}
