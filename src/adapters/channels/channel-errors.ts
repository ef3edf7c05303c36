import { UnavailableError } from '#shared/errors.ts';

/**
 * An external channel is unreachable (network error, timeout, 5xx/429, or a documented "retry" answer): retryable,
 * `503 CHANNEL_UNAVAILABLE`, and what the circuit breaker counts as a failure (unlike a channel saying no).
 */
export class ChannelUnavailableError<Reason extends string = string> extends UnavailableError {
  declare readonly reason: Reason;

  constructor(
    label: string,
    reason: Reason,
    message: string,
    readonly upstreamStatus?: number,
    options?: { cause?: unknown },
  ) {
    super('CHANNEL_UNAVAILABLE', `${label} unavailable: ${message}`, reason);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
