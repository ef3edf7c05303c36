import type {
  ChannelHealth,
  ChannelProfiles,
  DailyVolume,
  DailyVolumeKey,
  PaymentChannel,
  VolumeReservation,
} from '#app/ports.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import {
  type BreakerConfig,
  type BreakerState,
  claimProbe,
  DEFAULT_BREAKER_CONFIG,
  initialBreakerState,
  onFailure,
  onSuccess,
} from '#domain/circuit-breaker.ts';
import { reservationEntry, reservationSweepAt } from '#domain/daily-volume.ts';
import type { Channel, PayMethod } from '#domain/payment.ts';

/** A payment channel for routing tests: `supports` by lists; `createPayment` runs `pay` (default: a pay URL). */
export function fakeChannel(
  code: Channel,
  methods: PayMethod[],
  currencies: string[],
  pay: () => Promise<{ payUrl?: string }> = async () => ({ payUrl: `https://pay.example/${code}` }),
): PaymentChannel {
  const unused = () => Promise.reject(new Error('not used by routing tests'));
  return {
    code,
    supports: (method, currency) => methods.includes(method) && currencies.includes(currency),
    createPayment: pay,
    queryPayment: unused,
    closePayment: unused,
    refund: unused,
    queryRefund: unused,
    verifyAndParseCallback: unused,
  };
}

/** A profile with sensible defaults for tests. */
export function profileOf(channel: ChannelProfile['channel'], overrides: Partial<ChannelProfile> = {}): ChannelProfile {
  return {
    channel,
    enabled: true,
    methods: ['QR', 'PAGE'],
    currencies: ['CNY'],
    weight: 1,
    secretRef: channel.toLowerCase(),
    settings: {},
    updatedAt: '2025-11-24T00:00:00.000Z',
    ...overrides,
  };
}

/** The breaker in memory, with the same pure transitions as the DynamoDB repository. */
export class InMemoryChannelHealth implements ChannelHealth {
  readonly states = new Map<Channel, BreakerState>();
  constructor(readonly breaker: BreakerConfig = DEFAULT_BREAKER_CONFIG) {}

  async read(channels: readonly Channel[]): Promise<Map<Channel, BreakerState>> {
    return new Map(channels.map((channel) => [channel, this.state(channel)]));
  }

  async recordSuccess(channel: Channel, latencyMs: number, now: Date): Promise<BreakerState> {
    return this.set(channel, onSuccess(this.state(channel), now.getTime(), latencyMs, this.breaker));
  }

  async recordFailure(channel: Channel, now: Date): Promise<BreakerState> {
    return this.set(channel, onFailure(this.state(channel), now.getTime(), this.breaker));
  }

  async claimProbe(channel: Channel, now: Date): Promise<boolean> {
    const attempt = claimProbe(this.state(channel), now.getTime(), this.breaker);
    this.set(channel, attempt.state);
    return attempt.claimed;
  }

  state(channel: Channel): BreakerState {
    return this.states.get(channel) ?? initialBreakerState();
  }

  private set(channel: Channel, state: BreakerState): BreakerState {
    this.states.set(channel, state);
    return state;
  }
}

/** Profiles in memory. */
export class InMemoryProfiles implements ChannelProfiles {
  constructor(readonly profiles: ChannelProfile[] = []) {}

  async get(channel: ChannelProfile['channel']): Promise<ChannelProfile | undefined> {
    return this.profiles.find((profile) => profile.channel === channel);
  }

  async list(): Promise<ChannelProfile[]> {
    return this.profiles;
  }
}

/** Daily counters in memory, with their unconfirmed reservations by entry. */
export class InMemoryDailyVolume implements DailyVolume {
  readonly totals = new Map<string, number>();
  readonly held = new Map<string, VolumeReservation & { sweepAt: string }>();

  async reserveDailyVolume(key: DailyVolumeKey, amountMinor: number, limitMinor: number, paymentId: string, now: Date) {
    const total = this.totals.get(id(key)) ?? 0;
    if (total + amountMinor > limitMinor) return false as const;
    this.totals.set(id(key), total + amountMinor);
    const sweepAt = reservationSweepAt(now);
    this.held.set(reservationEntry(paymentId, key.channel), { paymentId, key, amountMinor, sweepAt });
    return {};
  }

  async releaseDailyVolume({ paymentId, key, amountMinor }: VolumeReservation): Promise<boolean> {
    if (!this.held.delete(reservationEntry(paymentId, key.channel))) return false;
    this.totals.set(id(key), (this.totals.get(id(key)) ?? 0) - amountMinor);
    return true;
  }

  async unconfirmedReservation(entry: string) {
    return this.held.get(entry);
  }

  async dailyTotal(key: DailyVolumeKey): Promise<number> {
    return this.totals.get(id(key)) ?? 0;
  }
}

function id(key: DailyVolumeKey): string {
  return `${key.channel}|${key.day}|${key.currency}`;
}
