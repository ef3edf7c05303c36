import { Duration } from 'aws-cdk-lib';
import { NOTIFY_TIMEOUT_MS } from '#adapters/http-notifier.ts';
import { DEFAULT_RETRY_JITTER, DEFAULT_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from '#shared/retry-schedule.ts';

/** Every function's timeout unless {@link WORKER_TIMEOUT_SECONDS} says otherwise (the HTTP routes answer well within it). */
export const DEFAULT_TIMEOUT_SECONDS = 10;

/** Slack over the merchant's acknowledgement window: decrypting the secret, reading the event, recording the attempt. */
const DELIVERY_OVERHEAD_SECONDS = 20;

/**
 * Timeouts of the workers that do more than the default allows. A timed-out invocation fails its whole batch (or
 * task), so each must cover its worst case, not its typical one.
 */
export const WORKER_TIMEOUT_SECONDS: Readonly<Record<string, number>> = {
  // One delivery waits up to the merchant's 10 s acknowledgement window, then records the attempt and may start the
  // retry workflow; a batch's records run in parallel. At 10 s a hanging merchant would time out the whole batch, and
  // SQS would redeliver it until it landed in the dead-letter queue without any scheduled retry.
  Notify: NOTIFY_TIMEOUT_MS / 1000 + DELIVERY_OVERHEAD_SECONDS,
  NotifyAttempt: NOTIFY_TIMEOUT_MS / 1000 + DELIVERY_OVERHEAD_SECONDS,
  // Up to 100 stream records in parallel; a payment whose expiry timer already ran is expired right here, which asks
  // the channel first.
  OutboxRelay: 60,
  // One page of up to 100 orders, one after another, each asking the channel and then closing at the channel and in
  // the table. The state machine retries a failed page, but a page that always outlasts the timeout never completes.
  ExpireBucket: 180,
  // Up to 20 skipped stream batches, each read back from the stream and relayed item by item (the relay's own work);
  // below the relay failure queue's visibility timeout, so a run never sees its own records come back.
  RelayRedrive: 180,
  // A whole channel-day: download and parse the bill, match every line against the table, confirm each mismatch
  // with the channel before repairing it, then write the reports. Lambda's maximum, so a busy day still completes.
  Reconcile: 900,
  // Each enabled channel's bill one after another: the channel's API call, the file (up to 2 minutes each), unpacking
  // and checking it whole, storing it.
  FetchBills: 600,
};

/** Every function's memory unless {@link WORKER_MEMORY_MB} says otherwise. */
export const DEFAULT_MEMORY_MB = 512;

/** Memory of the workers that need more than the default. */
export const WORKER_MEMORY_MB: Readonly<Record<string, number>> = {
  // A day's bill is parsed and matched in memory; 1,769 MB is also where Lambda gives a full vCPU.
  Reconcile: 1769,
  // A day's bill is held whole while it is unpacked, checked and stored (an Alipay archive and its CSV at once).
  FetchBills: 1769,
};

/** The Lambda memory (MB) of the function with this `FunctionSpec.id`. */
export function functionMemory(id: string): number {
  return WORKER_MEMORY_MB[id] ?? DEFAULT_MEMORY_MB;
}

/** The Lambda timeout of the function with this `FunctionSpec.id`. */
export function functionTimeout(id: string): Duration {
  return Duration.seconds(WORKER_TIMEOUT_SECONDS[id] ?? DEFAULT_TIMEOUT_SECONDS);
}

/** The notification retry schedule and jitter, as the `NOTIFY_RETRY_SCHEDULE` and `NOTIFY_RETRY_JITTER` variables. */
export interface NotifyRetrySettings {
  /** Comma-separated whole seconds, e.g. `1,5,30`. */
  readonly schedule: string;
  /** Fraction of each wait drawn at random either way, e.g. `0.2`. */
  readonly jitter: string;
}

/**
 * The retry settings from the CDK context value `notifyRetrySchedule` (`-c notifyRetrySchedule=1,5,30`, or an array
 * of seconds in `cdk.json`); the contract's schedule when absent. An invalid schedule fails the synthesis, not the
 * first failed notification.
 */
export function notifyRetrySettings(contextSchedule?: unknown): NotifyRetrySettings {
  const text = Array.isArray(contextSchedule) ? contextSchedule.join(',') : contextSchedule;
  if (text !== undefined && typeof text !== 'string') {
    throw new Error(`notifyRetrySchedule must be comma-separated seconds, not ${JSON.stringify(contextSchedule)}`);
  }
  const seconds = text ? parseRetrySchedule(text) : DEFAULT_RETRY_SCHEDULE_SECONDS;
  return { schedule: seconds.join(','), jitter: String(DEFAULT_RETRY_JITTER) };
}
