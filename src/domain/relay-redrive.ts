/**
 * Automatic re-drive of the outbox relay's failures: a table stream batch whose retries ran out is recorded in the
 * relay failure queue; a scheduled re-drive reads its records back from the stream and relays them again, retrying on
 * a growing delay, and only what is still undeliverable after the last attempt reaches the final queue (which alarms).
 */

/** A stream batch the relay gave up on, as the event source mapping records it (`DDBStreamBatchInfo`). */
export interface FailedStreamBatch {
  streamArn: string;
  shardId: string;
  /** First and last sequence numbers of the skipped records (inclusive). */
  startSequenceNumber: string;
  endSequenceNumber: string;
}

/** Failure records one re-drive run handles at most: a run stays short whatever the backlog. */
export const REDRIVE_BATCHES_PER_RUN = 20;
/** Delay after the first failed re-drive of a batch; it doubles with every further one. */
export const REDRIVE_FIRST_DELAY_SECONDS = 120;
/** The longest wait between two re-drives of the same batch (SQS's longest message delay). */
export const REDRIVE_MAX_DELAY_SECONDS = 900;
/** Re-drives of one batch before it is given up and parked in the final queue: 2, 4, 8, 15, 15 minutes apart. */
export const REDRIVE_MAX_ATTEMPTS = 6;

/**
 * How long a batch whose re-drive failed waits before the next one, after `attempts` failed re-drives (1, 2, …): 2, 4,
 * 8 … minutes, at most 15.
 */
export function redriveDelaySeconds(attempts: number, firstDelaySeconds = REDRIVE_FIRST_DELAY_SECONDS): number {
  const doublings = Math.min(Math.max(attempts - 1, 0), 20);
  return Math.min(firstDelaySeconds * 2 ** doublings, REDRIVE_MAX_DELAY_SECONDS);
}

/** Whether `sequenceNumber` lies within the batch (stream sequence numbers are decimal strings of any length). */
export function inBatch(batch: FailedStreamBatch, sequenceNumber: string): boolean {
  const at = BigInt(sequenceNumber);
  return at >= BigInt(batch.startSequenceNumber) && at <= BigInt(batch.endSequenceNumber);
}

/** Whether `sequenceNumber` lies after the batch's last record (the reader can stop). */
export function pastBatch(batch: FailedStreamBatch, sequenceNumber: string): boolean {
  return BigInt(sequenceNumber) > BigInt(batch.endSequenceNumber);
}
