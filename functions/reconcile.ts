import type { BillChannel } from '#adapters/bills/types.ts';
import { parseBillKey } from '#adapters/bucket-definitions.ts';
import { getContainer } from '#adapters/container.ts';
import { RECONCILED_CHANNELS, type ReconciliationRecord, reconcileDay } from '#app/reconcile.ts';
import { logger } from '#shared/observability.ts';
import { workerHandler } from '#shared/worker-handler.ts';

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

type Job = { channel: BillChannel; date: string };

function isReconciled(channel: string): channel is BillChannel {
  return (RECONCILED_CHANNELS as readonly string[]).includes(channel);
}

/** The channels whose bills are reconciled on schedule: the sandbox if enabled, the others if their profile is. */
async function enabledChannels(): Promise<BillChannel[]> {
  const container = getContainer();
  const enabled: BillChannel[] = container.config.sandboxEnabled ? ['SANDBOX'] : [];
  for (const code of ['ALIPAY', 'WECHAT_PAY'] as const) {
    const profile = await container.channelProfiles.get(code);
    if (profile?.enabled) enabled.push(code);
  }
  return enabled;
}

/** The channel-days an event asks for (an S3 key that is not a bill key is skipped, with a warning). */
export async function jobsOf(event: ReconcileEvent, now: Date): Promise<Job[]> {
  if ('Records' in event) {
    return event.Records.flatMap((record) => {
      const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
      const parsed = parseBillKey(key);
      if (!parsed || !isReconciled(parsed.channel)) {
        logger.warn('not a reconciled bill key', { key });
        return [];
      }
      return [{ channel: parsed.channel, date: parsed.date }];
    });
  }
  if ('channel' in event) {
    if (!isReconciled(event.channel)) throw new Error(`not a reconciled channel: ${event.channel}`);
    return [{ channel: event.channel, date: event.date }];
  }
  const yesterday = new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
  return (await enabledChannels()).map((channel) => ({ channel, date: yesterday }));
}

/**
 * Reconcile worker: the daily schedule reconciles yesterday (UTC) for every enabled channel; a bill landing in S3
 * reconciles its channel-day; a direct invocation `{ channel, date }` reconciles that one. Each run is idempotent.
 */
export const handler = workerHandler(async (event: ReconcileEvent): Promise<ReconciliationRecord[]> => {
  const container = getContainer();
  const results: ReconciliationRecord[] = [];
  for (const job of await jobsOf(event, container.clock())) {
    const record = await reconcileDay(container, job);
    logger.info('reconciled', { ...job, status: record.status, summary: record.summary });
    results.push(record);
  }
  return results;
});
