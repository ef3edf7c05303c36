import type { BillChannel } from '#domain/bill.ts';
import { parseBillKey } from '#domain/buckets.ts';
import { previousBusinessDay, type SettlementTimeZones } from '#domain/business-day.ts';
import type { ChannelProfiles } from './ports.ts';
import { RECONCILED_CHANNELS } from './reconcile.ts';

/** What starts a reconcile run: the daily schedule, a new bill in S3, or a direct `{ channel, date }`. */
export type ReconcileTrigger =
  | { kind: 'schedule' }
  | { kind: 'bill-uploaded'; keys: string[] }
  | { kind: 'direct'; channel: string; date: string };

/** One channel-day to reconcile. */
export interface ReconcileJob {
  channel: BillChannel;
  date: string;
}

/** One channel-day's bill to download, or (`archive`) to unpack from an uploaded `.csv.zip`. */
export interface BillJob extends ReconcileJob {
  archive: boolean;
}

/** An EventBridge scheduled event (only its shape matters). */
interface ScheduledEvent {
  'detail-type': 'Scheduled Event';
  time?: string;
}

/** An S3 notification (`ObjectCreated:*` on the bills bucket). */
interface S3Notification {
  Records: { eventName?: string; s3: { object: { key: string } } }[];
}

/** What the bill workers accept: the schedule, a new object in the bills bucket, or a direct `{ channel, date }`. */
export type ReconcileEvent = ScheduledEvent | S3Notification | { channel: string; date: string };

/** The trigger an event is. */
export function triggerOf(event: ReconcileEvent): ReconcileTrigger {
  if ('Records' in event) {
    // S3 event keys are URL-encoded, with `+` for a space.
    const keys = event.Records.map((record) => decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')));
    return { kind: 'bill-uploaded', keys };
  }
  if ('channel' in event) return { kind: 'direct', channel: event.channel, date: event.date };
  return { kind: 'schedule' };
}

export interface ReconcileJobsDeps {
  profiles: ChannelProfiles;
  sandboxEnabled: boolean;
  clock: () => Date;
  settlementTimeZones: SettlementTimeZones;
  /** Told about an uploaded object that is not a reconciled bill (it is skipped). */
  onSkippedKey?: (key: string) => void;
}

/**
 * The channel-days a trigger asks for. The schedule reconciles each channel's previous business day (in its
 * settlement time zone) for every channel that takes payments
 * here (the sandbox if enabled, Alipay/WeChat Pay if their profile is); an uploaded bill its own channel-day; a direct
 * invocation exactly what it names.
 */
export async function reconcileJobs(deps: ReconcileJobsDeps, trigger: ReconcileTrigger): Promise<ReconcileJob[]> {
  switch (trigger.kind) {
    case 'bill-uploaded':
      return trigger.keys.flatMap((key) => {
        const parsed = parseBillKey(key);
        if (parsed && !parsed.archive && isReconciled(parsed.channel))
          return [{ channel: parsed.channel, date: parsed.date }];
        deps.onSkippedKey?.(key);
        return [];
      });
    case 'direct':
      if (!isReconciled(trigger.channel)) throw new Error(`not a reconciled channel: ${trigger.channel}`);
      return [{ channel: trigger.channel, date: trigger.date }];
    case 'schedule': {
      const now = deps.clock();
      return (await enabledChannels(deps)).map((channel) => ({
        channel,
        date: previousBusinessDay(deps.settlementTimeZones[channel], now),
      }));
    }
  }
}

/**
 * The bills a trigger asks for: on schedule, each channel's (as {@link reconcileJobs}) previous business day; an
 * uploaded archive its own channel-day (to unpack); a direct invocation exactly what it names.
 */
export async function billJobs(deps: ReconcileJobsDeps, trigger: ReconcileTrigger): Promise<BillJob[]> {
  if (trigger.kind !== 'bill-uploaded') {
    return (await reconcileJobs(deps, trigger)).map((job) => ({ ...job, archive: false }));
  }
  return trigger.keys.flatMap((key) => {
    const parsed = parseBillKey(key);
    if (parsed?.archive && isReconciled(parsed.channel))
      return [{ channel: parsed.channel, date: parsed.date, archive: true }];
    deps.onSkippedKey?.(key);
    return [];
  });
}

function isReconciled(channel: string): channel is BillChannel {
  return (RECONCILED_CHANNELS as readonly string[]).includes(channel);
}

async function enabledChannels(deps: ReconcileJobsDeps): Promise<BillChannel[]> {
  const enabled: BillChannel[] = deps.sandboxEnabled ? ['SANDBOX'] : [];
  for (const code of ['ALIPAY', 'WECHAT_PAY'] as const) {
    if ((await deps.profiles.get(code))?.enabled) enabled.push(code);
  }
  return enabled;
}
