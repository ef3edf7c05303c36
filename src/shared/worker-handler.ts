import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { finishInvocation } from './invocation-end.ts';
import { logger, publishMetricsIfAny } from './observability.ts';

/**
 * Wraps a non-HTTP handler (queue consumer, stream consumer, state machine task) with the same Powertools logger
 * and metrics as the HTTP routes. Errors propagate: the event source (SQS, the stream, Step Functions)
 * retries according to its own policy.
 */
export function workerHandler<E, R>(handler: (event: E, context: Context) => Promise<R>) {
  return middy(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use({ after: publishMetricsIfAny, onError: publishMetricsIfAny })
    .use({ after: finishInvocation, onError: finishInvocation });
}
