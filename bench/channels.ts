import {
  measureCallbackVerification,
  RSA_KEY_BITS,
  type VerificationFigures,
  type VerifiedChannel,
} from './channel-verify.ts';
import { heading, indent, keyValues, num, table, wrap } from './format.ts';
import { type RoutingBenchResult, type RoutingLatency, runRoutingBench } from './routing.ts';
import { round } from './stats.ts';

export type { VerificationFigures, VerifiedChannel } from './channel-verify.ts';

/** Verifications per channel unless `iterations` says otherwise. */
export const DEFAULT_VERIFICATIONS = 2000;
/** Routing decisions per cache mode unless `routingIterations` says otherwise. */
export const DEFAULT_ROUTING_DECISIONS = 1000;

/** Options of {@link runChannelBench}. */
export interface ChannelBenchOptions {
  /** Measured verifications per channel (default {@link DEFAULT_VERIFICATIONS}); a tenth as many warm up first. */
  iterations?: number;
  /** Measured routing decisions per cache mode (default {@link DEFAULT_ROUTING_DECISIONS}). */
  routingIterations?: number;
  /** A running DynamoDB Local to route against; without it the routing bench starts (and stops) its own. */
  dynamoEndpoint?: string;
}

/** What {@link runChannelBench} measured. Every figure is measured on this run; nothing is a constant. */
export interface ChannelBenchResult {
  verification: {
    /** Measured verifications per channel. */
    iterations: number;
    /** Uncounted warm-up verifications per channel, run first. */
    warmup: number;
    /** Modulus length of the RSA keys generated for the run. */
    rsaKeyBits: number;
    /** One entry per channel: ALIPAY, WECHAT_PAY, SANDBOX. */
    channels: VerificationFigures[];
  };
  /** `routeChannel` latency, ms, with the breaker state read from DynamoDB Local on every decision or cached. */
  routing: RoutingBenchResult & {
    /** Mean latency without the cache / mean latency with it. */
    cacheSpeedup: number;
  };
  /** Wall time of the whole section (key generation, signing, DynamoDB Local start included), ms. */
  elapsedMs: number;
}

function count(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 1) throw new Error(`${name} must be a positive number, got ${value}`);
  return Math.floor(value);
}

/**
 * Measures (1) callback verification throughput of the Alipay, WeChat Pay and sandbox adapters — their real
 * `verifyAndParseCallback` over distinct signed payment-success notifications, RSA 2048 keys generated for the run —
 * and (2) the latency of a routing decision with the circuit-breaker state read from DynamoDB Local, without and with
 * the in-container cache (see `runRoutingBench`). Default run: well under 40 s on 2 cores.
 */
export async function runChannelBench(options: ChannelBenchOptions = {}): Promise<ChannelBenchResult> {
  const started = performance.now();
  const iterations = count(options.iterations, DEFAULT_VERIFICATIONS, 'iterations');
  const routingIterations = count(options.routingIterations, DEFAULT_ROUTING_DECISIONS, 'routingIterations');
  const warmup = Math.max(1, Math.ceil(iterations / 10));
  const channels = await measureCallbackVerification(iterations, warmup);
  const routing = await runRoutingBench({ endpoint: options.dynamoEndpoint, iterations: routingIterations });
  const cacheSpeedup = routing.withCache.mean > 0 ? round(routing.withoutCache.mean / routing.withCache.mean, 1) : 0;
  return {
    verification: { iterations, warmup, rsaKeyBits: RSA_KEY_BITS, channels },
    routing: { ...routing, cacheSpeedup },
    elapsedMs: round(performance.now() - started, 0),
  };
}

/** What each channel's verification does, for the report. */
const VERIFIED_WORK: Record<VerifiedChannel, string> = {
  ALIPAY: 'RSA2 (SHA256withRSA) over the sorted form',
  WECHAT_PAY: 'SHA256withRSA + AES-256-GCM decrypt',
  SANDBOX: 'HMAC-SHA256 of the raw body',
};

/** Widest line of the section's prose. */
const WIDTH = 118;

/**
 * The human-readable section: a table of verifications/s and µs per verification by channel, then the routing
 * decision latency without and with the breaker cache. `section` numbers the heading (default 7).
 */
export function formatChannelBench(result: ChannelBenchResult, section: number | string = 7): string {
  const { verification, routing } = result;
  const lines = [
    heading(`${section}. Callback verification throughput and routing decision latency`),
    indent(
      wrap(
        `verification = the adapter's own verifyAndParseCallback (signature check, then decrypt where the channel ` +
          `encrypts, parse and map) on a distinct signed payment-success notification, built as the local Alipay / ` +
          `WeChat Pay servers and the sandbox build them; awaited one after another on one core: ` +
          `${num(verification.iterations)} per channel after ${num(verification.warmup)} warm-up, RSA ` +
          `${verification.rsaKeyBits}-bit keys generated for the run, each result checked against its payment. ` +
          'mean = wall time / verifications (pauses included); p50 / p95 = single verifications',
        WIDTH - 2,
      ),
    ),
    '',
    indent(verificationTable(verification.channels)),
    '',
    indent(
      wrap(
        `routing decision = routeChannel (ALIPAY vs WECHAT_PAY, profiles cached) with the circuit-breaker state ` +
          `read from DynamoDB Local: ${num(routing.iterations)} sequential decisions per mode after a warm-up`,
        WIDTH - 2,
      ),
    ),
    '',
    indent(routingTable(routing)),
    '',
    keyValues([
      [
        'cache effect',
        `mean ${milliseconds(routing.withoutCache.mean)} → ${milliseconds(routing.withCache.mean)} ` +
          `(×${num(routing.cacheSpeedup, 1)}; the price: breaker state up to one TTL old)`,
      ],
      ['section wall time', `${num(result.elapsedMs / 1000, 1)} s (key generation, signing, DynamoDB Local included)`],
    ]),
  ];
  return lines.join('\n');
}

function verificationTable(channels: readonly VerificationFigures[]): string {
  const columns = [
    { header: 'channel' },
    { header: 'signature check' },
    { header: 'body B', align: 'right' },
    { header: 'verifications/s', align: 'right' },
    { header: 'mean µs', align: 'right' },
    { header: 'p50 µs', align: 'right' },
    { header: 'p95 µs', align: 'right' },
  ] as const;
  const rows = channels.map((figures) => [
    figures.channel,
    VERIFIED_WORK[figures.channel],
    num(figures.meanBodyBytes),
    num(figures.verificationsPerSecond),
    num(figures.meanMicros, 1),
    num(figures.p50Micros, 1),
    num(figures.p95Micros, 1),
  ]);
  return table(columns, rows);
}

function routingTable(routing: RoutingBenchResult): string {
  const columns = [
    { header: 'breaker state' },
    { header: 'p50', align: 'right' },
    { header: 'p95', align: 'right' },
    { header: 'mean', align: 'right' },
    { header: 'decisions/s', align: 'right' },
  ] as const;
  const row = (label: string, latency: RoutingLatency) => [
    label,
    milliseconds(latency.p50),
    milliseconds(latency.p95),
    milliseconds(latency.mean),
    latency.mean > 0 ? num(1000 / latency.mean) : 'n/a',
  ];
  return table(columns, [
    row('read from DynamoDB Local on every decision (BatchGetItem)', routing.withoutCache),
    row('in-container cache (TTL 1 s), refreshed from the table', routing.withCache),
  ]);
}

/** Milliseconds to the microsecond: routing decisions with the cache take a few µs. */
function milliseconds(value: number): string {
  return `${num(value, 3)} ms`;
}
