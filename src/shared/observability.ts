import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * Logger and metrics, created once per container and configured by the `POWERTOOLS_*` environment the CDK
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

// DECISION: no Powertools Tracer. Its X-Ray SDK (with semver and cls-hooked) was ~120 KB of every bundle and wrapped
// every SDK call; Lambda active tracing still records each invocation's segment (init, duration, errors). See
// docs/scaling.md "Lean functions".
