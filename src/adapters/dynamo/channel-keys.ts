import { type Key, part } from './keys.ts';

/**
 * Keys of the channel items of the single table (kept apart from `keys.ts`): one partition per channel holding its
 * profile, its shared breaker state and its daily volume counters.
 */
export const channelKeys = {
  /** The channel's non-secret profile. */
  profile: (channel: string): Key => ({ PK: channelPartition(channel), SK: 'PROFILE' }),
  /** The channel's circuit breaker, shared by every container. */
  health: (channel: string): Key => ({ PK: channelPartition(channel), SK: 'HEALTH' }),
  /**
   * The channel's reserved volume of one UTC day (`yyyy-mm-dd`); one attribute per currency. A sharded day's counter
   * `shard` is an item (and partition key) of its own, `VOLUME#{code}#{day}#{shard}`.
   */
  daily: (channel: string, day: string, shard?: number): Key =>
    shard === undefined
      ? { PK: channelPartition(channel), SK: `DAILY#${part(day)}` }
      : { PK: `VOLUME#${part(channel)}#${part(day)}#${shard}`, SK: 'DAILY' },
  /**
   * An unconfirmed daily-volume reservation's record, by its timer-bucket entry (`reservationEntry`): a partition of
   * its own, written with the reservation and removed by the creating transaction or the sweep.
   */
  volumeReservation: (entry: string): Key => ({ PK: `VOLRES#${part(entry)}`, SK: 'VOLRES' }),
};

/** `CHANNEL#{code}`. */
export function channelPartition(channel: string): string {
  return `CHANNEL#${part(channel)}`;
}

/** The attribute of a daily item that holds one currency's total (`total_CNY`). */
export function dailyTotalAttribute(currency: string): string {
  if (!/^[A-Z]{3}$/.test(currency)) throw new Error(`not an ISO 4217 code: ${currency}`);
  return `total_${currency}`;
}
