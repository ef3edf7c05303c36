import { channelParts } from '#adapters/wiring/channels.ts';
import { dynamoParts } from '#adapters/wiring/dynamo.ts';
import { billParserParts, fileParts } from '#adapters/wiring/files.ts';
import { wiring } from '#adapters/wiring/host.ts';
import type { ReconciliationRecord } from '#app/ports.ts';
import { reconcileDay } from '#app/reconcile.ts';
import { type ReconcileEvent, reconcileJobs, triggerOf } from '#app/reconcile-jobs.ts';
import { logger } from '#shared/observability.ts';
import { workerHandler } from '#shared/worker-handler.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const base = dynamoParts(config, db);
  return { ...base, ...channelParts(base), ...fileParts(config), ...billParserParts() };
});

/** Reconcile worker: each channel-day its trigger asks for, one after another; each run is idempotent. */
export const handler = workerHandler(async (event: ReconcileEvent): Promise<ReconciliationRecord[]> => {
  const container = wire();
  const jobs = await reconcileJobs(
    {
      profiles: container.channelProfiles,
      sandboxEnabled: container.config.sandboxEnabled,
      clock: container.clock,
      settlementTimeZones: container.settlementTimeZones,
      onSkippedKey: (key) => logger.warn('not a reconciled bill key', { key }),
    },
    triggerOf(event),
  );
  const results: ReconciliationRecord[] = [];
  for (const job of jobs) {
    const record = await reconcileDay(container, job);
    logger.info('reconciled', { ...job, status: record.status, summary: record.summary });
    results.push(record);
  }
  return results;
});
