import { httpHandler } from '#http/handler.ts';
import { matchRoute } from '#routes';
import { AppError, NotFoundError } from '#shared/errors.ts';

/** The `$default` route: the contract's `404 NOT_FOUND` / `405 METHOD_NOT_ALLOWED` envelopes for unknown routes. */
export const handler = httpHandler({ auth: false }, async (request) => {
  const path = request.pathAndQuery.split('?')[0] ?? '/';
  const match = matchRoute(request.method, path);
  if (match.kind === 'method-not-allowed') {
    throw new AppError('METHOD_NOT_ALLOWED', 405, `${request.method} is not allowed here`, { allowed: match.allowed });
  }
  throw new NotFoundError(`no route for ${request.method} ${path}`);
});
