import { setTimeout as sleep } from 'node:timers/promises';
import { StaleStateError } from '#app/ports.ts';
import { ConflictError } from '#shared/errors.ts';

const MAX_ATTEMPTS = 15;
const BASE_DELAY_MS = 4;
const MAX_DELAY_MS = 250;

/**
 * Runs a read-decide-write step until its conditional write wins. Each attempt re-reads and decides afresh (never a
 * blind retry of the same write); between attempts it backs off with full jitter, so a hot wallet credited by many
 * concurrent callbacks serialises instead of livelocking. After `MAX_ATTEMPTS` it answers the retryable
 * `409 REQUEST_IN_PROGRESS` (channels and merchants retry).
 */
export async function untilNotStale<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof StaleStateError)) throw error;
      if (attempt >= MAX_ATTEMPTS) {
        throw new ConflictError('REQUEST_IN_PROGRESS', 'the resource is being updated concurrently; retry');
      }
      await sleep(Math.random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt));
    }
  }
}
