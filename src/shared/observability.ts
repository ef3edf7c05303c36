import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * Logger, metrics and tracer, created once per container and configured by the `POWERTOOLS_*` environment the CDK
 * stack (or the local stack) sets. Logs are structured JSON carrying the request id; secrets are never logged.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pay-gateway' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'PayGateway',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pay-gateway',
});
/**
 * Publishes the invocation's alarm metrics (EMF) when there are any. Powertools' `logMetrics` would log a warning on
 * every invocation that emitted none, which is most of them.
 */
export function publishMetricsIfAny(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pay-gateway' });
