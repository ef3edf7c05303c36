import type { Channel } from '#domain/payment.ts';
import { AppError, UnavailableError } from '#shared/errors.ts';
import type { ChannelHealth } from './channel-ports.ts';

/** Node / undici error codes of a connection that failed or timed out. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * The default failure predicate: the channel was unreachable or broken, not "saying no".
 * - an adapter's unavailability error: any {@link UnavailableError} (e.g. `WechatPayUnavailableError`, code
 *   `CHANNEL_UNAVAILABLE`: network error, timeout, HTTP 5xx/429), or any error carrying `upstreamStatus >= 500`;
 * - a raw network or timeout error (`TimeoutError`, `AbortError`, `fetch failed`, `ECONNREFUSED`…, also as `cause`).
 * Business answers (`CHANNEL_REJECTED`, "trade not found", validation errors) and invalid responses are not failures.
 */
export function isChannelOutage(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (!(current instanceof Error)) return false;
    const fields = current as Error & { code?: unknown; upstreamStatus?: unknown };
    if (typeof fields.upstreamStatus === 'number' && fields.upstreamStatus >= 500) return true;
    if (current instanceof UnavailableError || fields.code === 'CHANNEL_UNAVAILABLE') return true;
    if (current instanceof AppError) return false;
    if (current.name === 'TimeoutError' || current.name === 'AbortError') return true;
    if (typeof fields.code === 'string' && NETWORK_CODES.has(fields.code)) return true;
    if (current instanceof TypeError && current.message === 'fetch failed') return true;
    current = current.cause;
  }
  return false;
}

/** The default answer predicate: the channel answered and said no (a business refusal, a 4xx). */
export function isChannelAnswer(error: unknown): boolean {
  if (error instanceof AppError && error.code === 'CHANNEL_REJECTED') return true;
  const upstream = (error as { upstreamStatus?: unknown } | null)?.upstreamStatus;
  return typeof upstream === 'number' && upstream < 500;
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
