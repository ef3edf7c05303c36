import { channelParts } from '#adapters/wiring/channels.ts';
import { dynamoParts } from '#adapters/wiring/dynamo.ts';
import { fileParts } from '#adapters/wiring/files.ts';
import { wiring } from '#adapters/wiring/host.ts';
import type { ReconciliationRecord } from '#app/ports.ts';
import { reconcileDay } from '#app/reconcile.ts';
import { type ReconcileTrigger, reconcileJobs } from '#app/reconcile-jobs.ts';
import { logger } from '#shared/observability.ts';
import { workerHandler } from '#shared/worker-handler.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const base = dynamoParts(config, db);
  return { ...base, ...channelParts(base), ...fileParts(config) };
});

/** An EventBridge scheduled event (only its shape matters). */
interface ScheduledEvent {
  'detail-type': 'Scheduled Event';
  time?: string;
}

/** An S3 notification (`ObjectCreated:*` on the bills bucket). */
interface S3Notification {
  Records: { eventName?: string; s3: { object: { key: string } } }[];
}

/** What the function accepts: the daily schedule, a new bill in S3, or a direct `{ channel, date }`. */
export type ReconcileEvent = ScheduledEvent | S3Notification | { channel: string; date: string };

function triggerOf(event: ReconcileEvent): ReconcileTrigger {
  if ('Records' in event) {
    // S3 event keys are URL-encoded, with `+` for a space.
    const keys = event.Records.map((record) => decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')));
    return { kind: 'bill-uploaded', keys };
  }
  if ('channel' in event) return { kind: 'direct', channel: event.channel, date: event.date };
  return { kind: 'schedule' };
}

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
