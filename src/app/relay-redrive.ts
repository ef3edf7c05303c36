import type { RelayFailure, RelayFailureQueue, StreamBatchReader } from '#app/ports.ts';
import { REDRIVE_BATCHES_PER_RUN, REDRIVE_MAX_ATTEMPTS, redriveDelaySeconds } from '#domain/relay-redrive.ts';
import { logger } from '#shared/observability.ts';
import { type RelayDeps, relayChange } from './outbox-relay.ts';

/** What the re-drive needs: the relay's own dependencies, the failure queue, and the stream to read batches back. */
export interface RedriveDeps extends RelayDeps {
  relayFailures: RelayFailureQueue;
  streamBatches: StreamBatchReader;
}

/** Tuning of one run (the defaults are the deployed ones; tests shorten the delay). */
export interface RedriveOptions {
  /** Failure records handled at most in this run. */
  maxBatches?: number;
  /** Delay after a batch's first failed re-drive (it doubles after each further one). */
  firstDelaySeconds?: number;
}

/** What one run did. */
export interface RedriveRun {
  /** Batches whose records were all relayed (removed from the failure queue). */
  redriven: number;
  /** Batches that failed again and wait for a later run. */
  postponed: number;
  /** Batches that failed their last attempt and were parked in the final queue. */
  gaveUp: number;
  /** Inserted items relayed (events queued, timers armed). */
  items: number;
}

/**
 * The scheduled re-drive of the outbox relay's failures.
 *
 * For each due record of the relay failure queue (at most `maxBatches` per run):
 * 1. Read the skipped batch's inserted and modified items back from the table stream.
 * 2. Relay each one again ({@link relayChange}: idempotent, so items the relay had already handled change nothing
 *    — an event already delivered is skipped by the notify consumer, a timer already armed is not armed twice).
 * 3. All relayed → the record is removed. Any failure → it is put back with its attempt count, due again after a
 *    growing delay (2, 4, 8, 15 minutes) for a later run; after {@link REDRIVE_MAX_ATTEMPTS} failed attempts it is
 *    parked in the final queue, whose alarm is the only one: its events are still `PENDING` and need an operator
 *    (`POST /v1/events/{id}/replay`).
 */
export async function redriveRelayFailures(deps: RedriveDeps, options: RedriveOptions = {}): Promise<RedriveRun> {
  const maxBatches = options.maxBatches ?? REDRIVE_BATCHES_PER_RUN;
  const run: RedriveRun = { redriven: 0, postponed: 0, gaveUp: 0, items: 0 };
  let handled = 0;
  while (handled < maxBatches) {
    const failures = await deps.relayFailures.receive(Math.min(10, maxBatches - handled));
    if (!failures.length) break;
    for (const failure of failures) {
      handled++;
      const relayed = await redriveOne(deps, failure);
      if (relayed === undefined && failure.attempts + 1 >= REDRIVE_MAX_ATTEMPTS) {
        logger.error('relay failure still undeliverable after its last re-drive: parked in the final queue', {
          attempts: failure.attempts + 1,
          shard_id: failure.batch?.shardId,
          start_sequence_number: failure.batch?.startSequenceNumber,
        });
        await deps.relayFailures.giveUp(failure);
        run.gaveUp++;
      } else if (relayed === undefined) {
        await deps.relayFailures.retryLater(
          failure,
          redriveDelaySeconds(failure.attempts + 1, options.firstDelaySeconds),
        );
        run.postponed++;
      } else {
        await deps.relayFailures.settle(failure);
        run.redriven++;
        run.items += relayed;
      }
    }
  }
  logger.info('relay failures re-driven', { ...run });
  return run;
}

/** Relays one failed batch again; the number of items relayed, or `undefined` if it failed (to be retried). */
async function redriveOne(deps: RedriveDeps, failure: RelayFailure): Promise<number | undefined> {
  try {
    if (!failure.batch) throw new Error('not a stream batch failure record');
    const items = await deps.streamBatches.changes(failure.batch);
    for (const change of items) await relayChange(deps, change);
    return items.length;
  } catch (error) {
    logger.warn('relay failure re-drive failed; retrying later', {
      attempt: failure.attempts + 1,
      shard_id: failure.batch?.shardId,
      start_sequence_number: failure.batch?.startSequenceNumber,
      error: String(error),
    });
    return undefined;
  }
}
