import type { Channel } from '#domain/payment.ts';
import { ChannelRejectedError, UnavailableError } from '#shared/errors.ts';
import type { ChannelHealth } from './ports.ts';

/**
 * The default failure predicate: the channel was unreachable or broken — an {@link UnavailableError} (the adapters
 * turn every network error, timeout, HTTP 5xx/429 or "system busy" answer into one, `503 CHANNEL_UNAVAILABLE`).
 * Business answers, validation errors and invalid responses are not outages.
 */
export function isChannelOutage(error: unknown): boolean {
  return error instanceof UnavailableError;
}

/** The default answer predicate: the channel answered and said no ({@link ChannelRejectedError}). */
export function isChannelAnswer(error: unknown): boolean {
  return error instanceof ChannelRejectedError;
}

/** Options of {@link withBreaker}. */
export interface WithBreakerOptions {
  /** Which thrown errors count as a channel failure; default {@link isChannelOutage}. */
  isFailure?: (error: unknown) => boolean;
  /** Which other thrown errors prove the channel answered (a success); default {@link isChannelAnswer}. */
  isAnswer?: (error: unknown) => boolean;
  /** The clock the outcome is recorded at; default the system clock. */
  clock?: () => Date;
  /** Sees an error of recording the outcome (it never replaces the call's own result). */
  onRecordError?: (error: unknown) => void;
}

/**
 * Runs one channel call and records its outcome on the shared breaker: a failure when it throws an error matching
 * `isFailure`; a success with its latency when it returns or throws an answer matching `isAnswer` — a business
 * refusal proves the channel is up, so it also closes a HALF_OPEN probe; nothing for an error that never reached the
 * channel (validation, missing configuration). The call's result or error is
 * returned unchanged; a failure to record (e.g. too much contention on the health item) is reported to
 * `onRecordError` and otherwise ignored — a lost sample must not fail a payment.
 */
export async function withBreaker<T>(
  channel: Channel,
  health: ChannelHealth,
  fn: () => Promise<T>,
  options: WithBreakerOptions = {},
): Promise<T> {
  const clock = options.clock ?? (() => new Date());
  const isFailure = options.isFailure ?? isChannelOutage;
  const started = performance.now();
  const record = async (write: () => Promise<unknown>) => {
    try {
      await write();
    } catch (error) {
      options.onRecordError?.(error);
    }
  };
  const answered = () => record(() => health.recordSuccess(channel, performance.now() - started, clock()));
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    if (isFailure(error)) await record(() => health.recordFailure(channel, clock()));
    else if ((options.isAnswer ?? isChannelAnswer)(error)) await answered();
    // Otherwise the call never reached the channel (bad input, missing configuration): it says nothing about the
    // channel's health, so nothing is recorded — a misconfigured channel must not look healthy and fast.
    throw error;
  }
  await answered();
  return result;
}
