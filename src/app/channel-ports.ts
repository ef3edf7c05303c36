import type { ChannelProfile } from '#domain/channel-config.ts';
import type { ChannelSecret } from '#domain/channel-fields.ts';
import type { BreakerConfig, BreakerState } from '#domain/circuit-breaker.ts';
import type { Channel } from '#domain/payment.ts';

/**
 * The circuit breakers of the channels, shared by every container (one DynamoDB item per channel). Every change is a
 * conditional write on the stored version, so concurrent containers never lose each other's outcomes.
 */
export interface ChannelHealth {
  /** The thresholds the stored states are interpreted with (the router must use the same). */
  readonly breaker: BreakerConfig;
  /** The breaker states of these channels (a channel never seen is CLOSED with no history). */
  read(channels: readonly Channel[]): Promise<Map<Channel, BreakerState>>;
  /** Records a successful call and its latency; returns the new state. */
  recordSuccess(channel: Channel, latencyMs: number, now: Date): Promise<BreakerState>;
  /** Records a failed call (network, timeout, 5xx); returns the new state. */
  recordFailure(channel: Channel, now: Date): Promise<BreakerState>;
  /** Claims the single HALF_OPEN probe; true for exactly one caller fleet-wide per probe. */
  claimProbe(channel: Channel, now: Date): Promise<boolean>;
}

/** The non-secret channel profiles (routing attributes and settings). */
export interface ChannelProfiles {
  get(channel: ChannelProfile['channel']): Promise<ChannelProfile | undefined>;
  /** Every configured profile, enabled or not. */
  list(): Promise<ChannelProfile[]>;
}

/** Identifies one daily counter: a channel, a UTC day (`yyyy-mm-dd`) and a currency. */
export interface DailyVolumeKey {
  channel: Channel;
  day: string;
  currency: string;
}

/**
 * The per-channel, per-UTC-day volume counters behind `dailyLimitMinor`. A reservation is one atomic conditional
 * increment (`total + amount <= limit`), so concurrent payments can never overshoot the limit together.
 */
export interface DailyVolume {
  /** Adds `amountMinor` to the day's total if it stays within `limitMinor`; false (nothing added) otherwise. */
  reserveDailyVolume(key: DailyVolumeKey, amountMinor: number, limitMinor: number): Promise<boolean>;
  /** Gives a reservation back (a payment that was never created, failed or closed). Never goes below zero. */
  releaseDailyVolume(key: DailyVolumeKey, amountMinor: number): Promise<void>;
  /** The day's reserved total in minor units. */
  dailyTotal(key: DailyVolumeKey): Promise<number>;
}

/** Where a channel's secret material lives: Secrets Manager on AWS, `.local/channels/` on one machine. */
export interface ChannelSecrets {
  /** The secret JSON object named by `secretRef`; throws if it does not exist. */
  get(secretRef: string): Promise<ChannelSecret>;
  /** Creates or replaces the secret; returns the `secretRef` to store on the profile. */
  put(name: string, secret: ChannelSecret): Promise<string>;
}
