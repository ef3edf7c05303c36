/**
 * The one error hierarchy of the gateway. Every error a client can see is an {@link AppError}; the HTTP layer maps
 * it to the contract's envelope in ONE place (`src/http/respond.ts`). Anything else is an internal error (500) whose
 * details never leave the process.
 */
export class AppError extends Error {
  /**
   * @param code stable UPPER_SNAKE code from the contract
   * @param httpStatus status the HTTP layer answers with
   * @param message human text; may change
   * @param details machine-readable extras for the client (never secrets)
   */
  constructor(
    readonly code: string,
    readonly httpStatus: number,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** 400: the request is malformed or breaks a validation rule. */
export class ValidationError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, 400, message, details);
  }
}

/** 401: the caller could not be authenticated. */
export class AuthError extends AppError {
  constructor(code: string, message: string) {
    super(code, 401, message);
  }
}

/** 403: authenticated, but not allowed. */
export class ForbiddenError extends AppError {
  constructor(code: string, message: string) {
    super(code, 403, message);
  }
}

/**
 * 403 `RISK_REJECTED`: risk control blocked the payment; nothing was created. `details.rules` names the rules that
 * fired, never their thresholds or the counters behind them.
 */
export class RiskRejectedError extends AppError {
  /**
   * @param rules the rule ids that fired (answered in `details.rules`)
   * @param score the payment's risk score, kept for the audit trail (never answered)
   */
  constructor(
    readonly rules: readonly string[],
    readonly score: number,
  ) {
    super('RISK_REJECTED', 403, 'the payment was declined by risk control', { rules: [...rules] });
  }
}

/** 404: the resource does not exist, or belongs to another merchant (never 403). */
export class NotFoundError extends AppError {
  constructor(message = 'resource not found') {
    super('NOT_FOUND', 404, message);
  }
}

/** 409: the request conflicts with the resource's current state or an earlier request. */
export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, 409, message, details);
  }
}

/** 429: too many requests of this kind; `Retry-After` says when to try again. */
export class RateLimitedError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('RATE_LIMITED', 429, message, { retry_after_seconds: retryAfterSeconds });
  }
}

/**
 * 502: a payment channel answered and said no (a business refusal such as "trade does not exist"). It proves the
 * channel is up, so the circuit breaker counts it as a success, never as an outage.
 */
export class ChannelRejectedError extends AppError {
  constructor(message: string, details: { channel: string; channel_code: string }) {
    super('CHANNEL_REJECTED', 502, message, details);
  }
}

/**
 * 502: a channel's answer cannot be trusted (its signature does not verify, or it is not the documented shape), so
 * nothing in it is used. The request reached the channel: like a timeout, the channel may have acted on it.
 */
export class ChannelResponseInvalidError extends AppError {
  constructor(label: string, channel: string, reason: string) {
    super('CHANNEL_RESPONSE_INVALID', 502, `${label} response rejected: ${reason}`, { channel });
  }
}

/** Why a channel's call failed as an outage; `timeout`: the request went out and no answer came back. */
export const OUTAGE_TIMEOUT = 'timeout';

/**
 * 503: a dependency (e.g. every payment channel) is unavailable; retryable. `reason` says how a channel call failed
 * (`'timeout' | 'network' | 'http_status' | …`); only after a {@link OUTAGE_TIMEOUT} may the channel have acted on it.
 */
export class UnavailableError extends AppError {
  constructor(
    code: string,
    message: string,
    readonly reason?: string,
  ) {
    super(code, 503, message);
  }
}
