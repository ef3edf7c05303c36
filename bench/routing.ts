import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoChannelHealthRepository } from '#adapters/dynamo/channel-health-repository.ts';
import { DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import { DynamoDailyVolumeRepository } from '#adapters/dynamo/daily-volume-repository.ts';
import type { PaymentChannel } from '#app/ports.ts';
import { type ChannelRouter, routeChannel } from '#app/routing.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import type { Channel, PayMethod } from '#domain/payment.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { createGatewayTable } from '../local/tables.ts';
import { round, summarize } from './stats.ts';

/** Latency of one routing decision, ms. */
export interface RoutingLatency {
  p50: number;
  p95: number;
  mean: number;
}

/** What {@link runRoutingBench} measured. */
export interface RoutingBenchResult {
  iterations: number;
  /** Every decision reads both breaker items from DynamoDB Local (one BatchGetItem). */
  withoutCache: RoutingLatency;
  /** Breaker reads served from the in-container cache (TTL 1 s), refreshed from the table when it expires. */
  withCache: RoutingLatency;
}

/**
 * Measures `routeChannel` decisions (ALIPAY vs WECHAT_PAY, no daily limit, so no writes) with the breaker state read
 * from DynamoDB Local, without and with the in-container health cache. Profiles are cached in both runs so the
 * difference is the health read alone. Starts its own DynamoDB Local unless `endpoint` is given; uses a fresh table
 * and deletes it afterwards.
 */
export async function runRoutingBench(options: { endpoint?: string; iterations: number }): Promise<RoutingBenchResult> {
  const iterations = Math.max(1, Math.floor(options.iterations));
  let local: DynamoDbLocal | undefined;
  if (!options.endpoint) local = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: options.endpoint ?? local?.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tableName = `bench-routing-${randomBytes(4).toString('hex')}`;
  try {
    await createGatewayTable(client, tableName);
    const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    const profiles = new DynamoChannelProfileRepository(db, tableName, { cacheTtlMs: 3_600_000 });
    await profiles.put(profile('ALIPAY', 5), null);
    await profiles.put(profile('WECHAT_PAY', 3), null);
    const seed = new DynamoChannelHealthRepository(db, tableName, { cacheTtlMs: 0 });
    for (const channel of ['ALIPAY', 'WECHAT_PAY'] as const) {
      for (let i = 0; i < 5; i++) await seed.recordSuccess(channel, 120 + 10 * i, new Date());
    }
    const router = (cacheTtlMs: number): ChannelRouter => ({
      channels: new Map<Channel, PaymentChannel>([
        ['ALIPAY', benchChannel('ALIPAY')],
        ['WECHAT_PAY', benchChannel('WECHAT_PAY')],
      ]),
      profiles,
      health: new DynamoChannelHealthRepository(db, tableName, { cacheTtlMs }),
      volume: new DynamoDailyVolumeRepository(db, tableName),
      clock: () => new Date(),
    });
    const withoutCache = await measure(router(0), iterations);
    const withCache = await measure(router(1000), iterations);
    return { iterations, withoutCache, withCache };
  } finally {
    await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    client.destroy();
    await local?.stop();
  }
}

async function measure(router: ChannelRouter, iterations: number): Promise<RoutingLatency> {
  const request = { method: 'QR' as const, currency: 'CNY', amountMinor: 10_000 };
  for (let i = 0; i < Math.min(50, iterations); i++) await routeChannel(router, request);
  const latencies: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    await routeChannel(router, request);
    latencies.push(performance.now() - started);
  }
  const summary = summarize(latencies);
  return { p50: round(summary.p50, 3), p95: round(summary.p95, 3), mean: round(summary.mean, 3) };
}

function profile(channel: ChannelProfile['channel'], weight: number): ChannelProfile {
  return {
    channel,
    enabled: true,
    methods: ['QR'],
    currencies: ['CNY'],
    weight,
    secretRef: channel.toLowerCase(),
    settings: {},
    updatedAt: new Date().toISOString(),
  };
}

/** Routing only asks `supports`; nothing else is called. */
function benchChannel(code: Channel): PaymentChannel {
  const unused = () => Promise.reject(new Error('not called by the routing bench'));
  return {
    code,
    supports: (method: PayMethod, currency: string) => method === 'QR' && currency === 'CNY',
    createPayment: unused,
    queryPayment: unused,
    closePayment: unused,
    refund: unused,
    queryRefund: unused,
    verifyAndParseCallback: unused,
  };
}
