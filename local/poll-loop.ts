import { setTimeout as sleep } from 'node:timers/promises';

/** A running poller; `stop` lets the batch in hand finish first. */
export interface Poller {
  stop(): Promise<void>;
}

/** What one round of a poll loop may use: whether the loop is stopping, and a pause that stopping cuts short. */
export interface PollControl {
  readonly stopping: AbortSignal;
  pause(ms: number): Promise<void>;
}

/** Options of {@link startPollLoop}. */
export interface PollLoopOptions {
  /** Pause after a round that delivered nothing. */
  idleDelayMs: number;
  /** A round that threw (the loop goes on after a second). */
  onError: (error: unknown) => void;
  /** Runs once the last round has ended, e.g. to close a client. */
  onStopped?: () => void;
}

/**
 * The loop of the local event source mappings (SQS queue, DynamoDB stream): runs `round` until stopped, pausing when a
 * round delivered nothing (what a long poll does on AWS) and for a second after a failure, which is reported, never
 * fatal. `round` returns how many records it delivered.
 */
export function startPollLoop(round: (control: PollControl) => Promise<number>, options: PollLoopOptions): Poller {
  const stopping = new AbortController();
  const control: PollControl = {
    stopping: stopping.signal,
    pause: (ms) => sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined),
  };
  const running = (async () => {
    while (!stopping.signal.aborted) {
      try {
        if (!(await round(control))) await control.pause(options.idleDelayMs);
      } catch (error) {
        options.onError(error);
        await control.pause(1000);
      }
    }
    options.onStopped?.();
  })();
  return {
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
