import { dynamoParts } from '#adapters/wiring/dynamo.ts';
import { billIntakeParts, fileParts } from '#adapters/wiring/files.ts';
import { wiring } from '#adapters/wiring/host.ts';
import { type BillIntake, runBillJob } from '#app/bill-intake.ts';
import { billJobs, type ReconcileEvent, triggerOf } from '#app/reconcile-jobs.ts';
import { logger } from '#shared/observability.ts';
import { workerHandler } from '#shared/worker-handler.ts';

/** This function's composition root: only what it uses (see `src/adapters/container.ts`). */
const wire = wiring((config, db) => {
  const base = dynamoParts(config, db);
  return { ...base, ...fileParts(config), ...billIntakeParts(config, base) };
});

/**
 * Bill download worker: on schedule, each enabled channel's bill of its previous business day is downloaded unless
 * already stored (a bill not published yet is asked for again at the next hourly run; a failure is logged and
 * counted, `BillDownloadFailed`); an archive uploaded to `bills/{CHANNEL}/{date}.csv.zip` is unpacked. Each stored
 * `.csv` triggers its reconciliation.
 */
export const handler = workerHandler(async (event: ReconcileEvent): Promise<BillIntake[]> => {
  const container = wire();
  const jobs = await billJobs(
    {
      profiles: container.channelProfiles,
      sandboxEnabled: container.config.sandboxEnabled,
      clock: container.clock,
      settlementTimeZones: container.settlementTimeZones,
      onSkippedKey: (key) => logger.warn('not a bill archive key', { key }),
    },
    triggerOf(event),
  );
  const results: BillIntake[] = [];
  for (const job of jobs) {
    const intake = await runBillJob(container, job);
    if (intake.status === 'REFUSED') logger.error('bill refused', { ...job, problems: intake.problems });
    else if (intake.status === 'FAILED') logger.error('bill download failed', { ...job, reason: intake.reason });
    else logger.info('bill intake', { ...job, status: intake.status });
    results.push(intake);
  }
  return results;
});
