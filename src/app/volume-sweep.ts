import type { AlarmMetrics, DailyVolume } from '#app/ports.ts';
import { logger } from '#shared/observability.ts';

/** What the sweep of unconfirmed daily-volume reservations needs. */
export interface VolumeSweepDeps {
  router: { volume: DailyVolume };
  alarms: AlarmMetrics;
  clock: () => Date;
}

/**
 * Gives back a routed payment's channel daily volume that no creating transaction confirmed — the minute timer's task
 * for a reservation entry of its bucket (the relay armed that minute when the reservation's record was inserted).
 *
 * 1. Read the reservation's record; gone (its payment was created with it, or it was given back) → nothing to do.
 * 2. Not yet due (`sweepAt`, `RESERVATION_SWEEP_AFTER_MS` after it was made, longer than any create request lives)
 *    → nothing now.
 * 3. Give it back: the record removed and each share subtracted from its counter in ONE transaction, conditional on
 *    the record — so exactly once, however often the timer runs; and a creating transaction still holding it (it
 *    requires the record) can no longer commit. Counts `VolumeReservationSwept`.
 */
export async function sweepVolumeReservation(deps: VolumeSweepDeps, entry: string): Promise<'released' | 'skipped'> {
  const held = await deps.router.volume.unconfirmedReservation(entry);
  if (!held || Date.parse(held.sweepAt) > deps.clock().getTime()) return 'skipped';
  if (!(await deps.router.volume.releaseDailyVolume(held))) return 'skipped';
  deps.alarms.count('VolumeReservationSwept');
  logger.warn('unconfirmed daily volume reservation given back', {
    payment_id: held.paymentId,
    channel: held.key.channel,
    day: held.key.day,
    amount_minor: held.amountMinor,
  });
  return 'released';
}
