import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type AuthenticateDeps, authenticate } from '#app/authenticate.ts';
import type { RateDecision, RateLimiter } from '#app/rate-limiter.ts';
import { withRequestContext } from '#app/request-context.ts';
import { parseJsonText } from '#app/validation.ts';
import type { Merchant } from '#domain/merchant.ts';
import { routeClassOf } from '#domain/rate-limit.ts';
import { AppError, NotFoundError, RateLimitedError } from '#shared/errors.ts';
import { finishInvocation } from '#shared/invocation-end.ts';
import { logger, publishMetricsIfAny } from '#shared/observability.ts';
import { type HttpRequest, toHttpRequest } from './request.ts';
import { errorResponse } from './respond.ts';

export const MAX_BODY_BYTES = 64 * 1024;
/**
 * No id, account or date the gateway knows is longer (its ids are 36 characters, account ids 64). The bound also keeps
 * a path parameter inside DynamoDB's 2,048-byte partition key, which a longer one would break with a 500.
 */
const MAX_PATH_PARAMETER_LENGTH = 255;

/** What an authenticated route's wiring must hold: what authentication reads, and the merchant rate limiter. */
export type MerchantRouteDeps = AuthenticateDeps & { rateLimiter: RateLimiter };

type Handler<D, M> = (
  request: HttpRequest,
  context: { container: D; merchant: M },
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Wraps a route handler with everything every route needs, once: the function's own wiring (`wire`, built on first
 * use; see `src/adapters/container.ts`), Powertools logger/metrics, the 64 KiB body
 * limit, merchant authentication (unless `auth: false`), the merchant's rate limit, the JSON media type of merchant
 * bodies, and the single error mapping. Handlers stay thin. Checks run in this order: `413` body too large, `404` a
 * path parameter too long to name anything, `401`/`403` authentication, `429` the merchant's rate limit (writes or
 * reads), `415` media type, then the handler's own `400`s (`INVALID_JSON`, validation). Every answer after
 * authentication carries `X-RateLimit-*`.
 */
export function httpHandler<D extends MerchantRouteDeps>(
  options: { auth: true; wire: () => D },
  handler: Handler<D, Merchant>,
): middy.MiddyfiedHandler;
export function httpHandler<D = undefined>(
  options: { auth: false; wire?: () => D },
  handler: Handler<D, undefined>,
): middy.MiddyfiedHandler;
export function httpHandler(
  options: { auth: boolean; wire?: () => unknown },
  handler: Handler<unknown, Merchant> | Handler<unknown, undefined>,
) {
  const base = (event: APIGatewayProxyEventV2, _context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    const request = toHttpRequest(event);
    // The audit trail stamps every sensitive change with the request it happened in.
    return withRequestContext({ requestId: request.requestId }, () => handle(event, request));
  };
  const handle = async (event: APIGatewayProxyEventV2, request: HttpRequest) => {
    logger.appendKeys({ request_id: request.requestId });
    const started = performance.now();
    let response: APIGatewayProxyStructuredResultV2;
    let merchantId: string | undefined;
    let rateLimitHeaders: Record<string, string> = {};
    try {
      if (request.rawBody.length > MAX_BODY_BYTES) {
        throw new AppError('BODY_TOO_LARGE', 413, `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
      }
      if (Object.values(request.pathParameters).some((value) => (value?.length ?? 0) > MAX_PATH_PARAMETER_LENGTH)) {
        throw new NotFoundError(`no resource has a path parameter over ${MAX_PATH_PARAMETER_LENGTH} characters`);
      }
      const container = options.wire?.();
      if (options.auth) {
        // The signature covers the body bytes exactly as sent, never their decoded text.
        const merchant = await authenticate(container as MerchantRouteDeps, { ...request, body: request.rawBody });
        merchantId = merchant.id;
        logger.appendKeys({ merchant_id: merchant.id });
        // Only after authentication: a caller who cannot sign as the merchant cannot drain its bucket.
        const limit = await (container as MerchantRouteDeps).rateLimiter.admit(merchant, routeClassOf(request.method));
        rateLimitHeaders = rateLimitHeadersOf(limit);
        if (!limit.admitted) {
          throw new RateLimitedError(
            'rate limit exceeded; retry after Retry-After seconds',
            limit.retryAfterSeconds ?? 1,
          );
        }
        requireJsonMediaType(request);
        response = await (handler as Handler<unknown, Merchant>)(request, { container, merchant });
      } else {
        response = await (handler as Handler<unknown, undefined>)(request, { container, merchant: undefined });
      }
    } catch (error) {
      if (!(error instanceof AppError)) logger.error('unhandled error', error as Error);
      response = errorResponse(error, request.requestId);
    }
    // Background writes of this request (the channel journal) finish, bounded, before the container may freeze.
    await finishInvocation();
    response.headers = { ...response.headers, ...rateLimitHeaders, 'x-request-id': request.requestId };
    logger.info('request', {
      method: request.method,
      path: event.rawPath,
      status: response.statusCode,
      latency_ms: Math.round(performance.now() - started),
      ...(merchantId ? { merchant_id: merchantId } : {}),
    });
    return response;
  };
  return middy(base)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({ after: publishMetricsIfAny });
}

/** The contract's `X-RateLimit-*` headers, on every authenticated answer (errors included). */
function rateLimitHeadersOf(decision: RateDecision): Record<string, string> {
  return {
    'x-ratelimit-limit': String(decision.limit),
    'x-ratelimit-remaining': String(decision.remaining),
    'x-ratelimit-reset': String(decision.resetAt),
  };
}

/** `application/json`, any case, with optional parameters; a charset, if given, must be UTF-8. */
const JSON_MEDIA_TYPE = /^\s*application\/json\s*(;|$)/i;
const CHARSET_PARAMETER = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;

/**
 * A merchant request that carries a body must declare it `application/json` (`415 UNSUPPORTED_MEDIA_TYPE`). A request
 * without a body (`POST …/close`, every GET) needs no content type. Channel callbacks and the sandbox cashier are not
 * merchant routes: they keep their channels' media types.
 */
function requireJsonMediaType(request: HttpRequest): void {
  if (request.rawBody.length === 0) return;
  const contentType = request.headers['content-type'] ?? '';
  const charset = CHARSET_PARAMETER.exec(contentType)?.[1]?.toLowerCase();
  if (!JSON_MEDIA_TYPE.test(contentType) || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 415, 'request bodies must be UTF-8 JSON sent as application/json');
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses a JSON request body; bytes that are not UTF-8 or not JSON are `400 INVALID_JSON`, never a 500. */
export function parseJsonBody(request: HttpRequest): unknown {
  if (request.rawBody.length === 0) throw new AppError('INVALID_JSON', 400, 'a JSON request body is required');
  let text: string;
  try {
    text = UTF8.decode(request.rawBody);
  } catch {
    throw new AppError('INVALID_JSON', 400, 'request body is not valid UTF-8');
  }
  return parseJsonText(text, 'request body');
}
