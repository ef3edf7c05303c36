import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AppError, RateLimitedError } from '#shared/errors.ts';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** A JSON response. */
export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/**
 * THE mapping from errors to the contract's envelope. An {@link AppError} shows its code, message and details;
 * anything else is a 500 `INTERNAL_ERROR` that reveals nothing about its cause.
 */
export function errorResponse(error: unknown, requestId: string): APIGatewayProxyStructuredResultV2 {
  const appError =
    error instanceof AppError ? error : new AppError('INTERNAL_ERROR', 500, 'internal error; retry later');
  return json(
    appError.httpStatus,
    {
      error: {
        code: appError.code,
        message: appError.message,
        request_id: requestId,
        ...(appError.details ? { details: appError.details } : {}),
      },
    },
    appError instanceof RateLimitedError ? { 'retry-after': String(appError.retryAfterSeconds) } : {},
  );
}
