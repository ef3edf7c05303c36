import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ChannelHealth } from '#app/ports.ts';
import { StaleStateError } from '#app/ports.ts';
import {
  type BreakerConfig,
  type BreakerState,
  claimProbe,
  DEFAULT_BREAKER_CONFIG,
  initialBreakerState,
  onFailure,
  onSuccess,
} from '#domain/circuit-breaker.ts';
import type { Channel } from '#domain/payment.ts';
import { channelKeys } from './channel-keys.ts';

/** Options of {@link DynamoChannelHealthRepository}. */
export interface ChannelHealthOptions {
  breaker?: BreakerConfig;
  /** How long `read` may answer from this container's copy; 0 = always read the table. Default 1000 ms. */
  cacheTtlMs?: number;
  /** Read-transition-write attempts before an update gives up with `StaleStateError`. Default 12. */
  maxAttempts?: number;
  /** Strongly consistent `read`s (updates always read consistently). Default false. */
  consistentRead?: boolean;
  /**
   * How long this container may hold the successes of a healthy channel (CLOSED, no failure since the last success,
   * as this container last saw it) before writing them as one update; 0 = write each at once. Default 1000 ms.
   */
  successFlushMs?: number;
}

/** One success waiting to be written: when it ended and how long it took. */
interface Sample {
  at: number;
  latencyMs: number;
}

interface Versioned {
  state: BreakerState;
  version: number;
}

/**
 * The breaker of each channel in ONE item (`CHANNEL#{code}` / `HEALTH`) shared by every container. Each change reads
 * the item, applies the pure transition and writes it back conditional on the version read; a lost race re-reads and
 * re-applies (bounded, with jittered back-off). Claiming the probe is such a write too, so exactly one caller
 * fleet-wide wins it. `read` may be served from a short in-container cache; writes refresh that cache.
 */
export class DynamoChannelHealthRepository implements ChannelHealth {
  readonly breaker: BreakerConfig;
  private readonly cacheTtlMs: number;
  private readonly maxAttempts: number;
  private readonly consistentRead: boolean;
  private readonly cache = new Map<Channel, Versioned & { until: number }>();
  private readonly successFlushMs: number;
  private readonly pending = new Map<Channel, { since: number; samples: Sample[] }>();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: ChannelHealthOptions = {},
  ) {
    this.breaker = options.breaker ?? DEFAULT_BREAKER_CONFIG;
    this.cacheTtlMs = options.cacheTtlMs ?? 1000;
    this.maxAttempts = options.maxAttempts ?? 12;
    this.consistentRead = options.consistentRead ?? false;
    this.successFlushMs = options.successFlushMs ?? 1000;
  }

  async read(channels: readonly Channel[]): Promise<Map<Channel, BreakerState>> {
    const out = new Map<Channel, BreakerState>();
    const now = performance.now();
    const missing: Channel[] = [];
    for (const channel of new Set(channels)) {
      const hit = this.cache.get(channel);
      if (hit && hit.until > now) out.set(channel, hit.state);
      else missing.push(channel);
    }
    if (missing.length === 0) return out;
    const found = new Map<Channel, Record<string, unknown>>();
    let keys: Record<string, unknown>[] | undefined = missing.map((channel) => ({ ...channelKeys.health(channel) }));
    while (keys && keys.length > 0) {
      const output: BatchGetCommandOutput = await this.db.send(
        new BatchGetCommand({
          RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: this.consistentRead } },
        }),
      );
      for (const item of output.Responses?.[this.tableName] ?? []) found.set(item.channel as Channel, item);
      keys = output.UnprocessedKeys?.[this.tableName]?.Keys;
    }
    for (const channel of missing) {
      const current = parse(found.get(channel));
      this.remember(channel, current);
      out.set(channel, current.state);
    }
    return out;
  }

  /**
   * A success of a healthy channel is held with the others of this container and written with them once
   * `successFlushMs` has passed (or with the next failure), so a busy channel costs each container about one write
   * per interval instead of one per payment (the item takes ~1,000 writes/s before it throttles). Anything else —
   * a probe's answer, a success after failures — is written at once, as it changes what routing decides. A container
   * frozen or recycled with held successes loses them: samples of a healthy channel, never a failure.
   */
  async recordSuccess(channel: Channel, latencyMs: number, now: Date): Promise<BreakerState> {
    const known = this.cache.get(channel)?.state;
    const held = this.pending.get(channel) ?? { since: now.getTime(), samples: [] };
    held.samples.push({ at: now.getTime(), latencyMs });
    this.pending.set(channel, held);
    const healthy = known?.status === 'CLOSED' && known.consecutiveFailures === 0;
    if (healthy && now.getTime() - held.since < this.successFlushMs) return known;
    const samples = this.takePending(channel);
    return this.update(channel, (state) => withSuccesses(state, samples, this.breaker));
  }

  recordFailure(channel: Channel, now: Date): Promise<BreakerState> {
    const samples = this.takePending(channel);
    return this.update(channel, (state) =>
      onFailure(withSuccesses(state, samples, this.breaker), now.getTime(), this.breaker),
    );
  }

  async claimProbe(channel: Channel, now: Date): Promise<boolean> {
    let claimed = false;
    await this.update(channel, (state) => {
      const attempt = claimProbe(state, now.getTime(), this.breaker);
      claimed = attempt.claimed;
      return attempt.claimed ? attempt.state : undefined;
    });
    return claimed;
  }

  /** Drops this container's cached copies (tests, or after a manual reset). */
  forget(): void {
    this.cache.clear();
  }

  /** The held successes of `channel`, removed: whoever takes them writes them. */
  private takePending(channel: Channel): Sample[] {
    const held = this.pending.get(channel);
    this.pending.delete(channel);
    return held?.samples ?? [];
  }

  /** Read → pure transition → conditional put; `undefined` from the transition means "nothing to write". */
  private async update(
    channel: Channel,
    transition: (state: BreakerState) => BreakerState | undefined,
  ): Promise<BreakerState> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const current = await this.fetch(channel);
      const next = transition(current.state);
      if (!next) return current.state;
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...channelKeys.health(channel),
              entity: 'CHANNEL_HEALTH',
              channel,
              ...next,
              version: current.version + 1,
            },
            ...(current.version === 0
              ? { ConditionExpression: 'attribute_not_exists(PK)' }
              : {
                  ConditionExpression: 'version = :expected',
                  ExpressionAttributeValues: { ':expected': current.version },
                }),
          }),
        );
        this.remember(channel, { state: next, version: current.version + 1 });
        return next;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        await sleep(Math.random() * Math.min(200, 2 ** attempt));
      }
    }
    throw new StaleStateError(`the health of channel ${channel} is changing too fast to update`);
  }

  private async fetch(channel: Channel): Promise<Versioned> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: channelKeys.health(channel), ConsistentRead: true }),
    );
    return parse(Item);
  }

  private remember(channel: Channel, value: Versioned): void {
    if (this.cacheTtlMs > 0) this.cache.set(channel, { ...value, until: performance.now() + this.cacheTtlMs });
  }
}

/** `state` after the held successes, in order. */
function withSuccesses(state: BreakerState, samples: readonly Sample[], config: BreakerConfig): BreakerState {
  return samples.reduce((next, sample) => onSuccess(next, sample.at, sample.latencyMs, config), state);
}

/** The stored item as a breaker state and its version (a missing item is a fresh CLOSED breaker, version 0). */
function parse(item: Record<string, unknown> | undefined): Versioned {
  if (!item) return { state: initialBreakerState(), version: 0 };
  const state: BreakerState = {
    status: item.status as BreakerState['status'],
    consecutiveFailures: Number(item.consecutiveFailures ?? 0),
    buckets: ((item.buckets as BreakerState['buckets'] | undefined) ?? []).map((bucket) => ({
      start: Number(bucket.start),
      successes: Number(bucket.successes),
      failures: Number(bucket.failures),
    })),
  };
  if (item.openedAt !== undefined) state.openedAt = Number(item.openedAt);
  if (item.probeClaimedAt !== undefined) state.probeClaimedAt = Number(item.probeClaimedAt);
  if (item.latencyMs !== undefined) state.latencyMs = Number(item.latencyMs);
  return { state, version: Number(item.version ?? 0) };
}
