import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';

/** Properties of a {@link GatewayFunction}: an entry is required, everything else has the gateway's default. */
export interface GatewayFunctionProps extends NodejsFunctionProps {
  /** Absolute path of the handler module (exports `handler`). */
  readonly entry: string;
  /** Absolute path of the project root (holds `package.json` with the `#…` import aliases and the lock file). */
  readonly projectRoot: string;
  /** Merged over the defaults (Powertools configuration). */
  readonly environment?: Record<string, string>;
}

/** Powertools configuration every function shares; `observability.ts` reads it. */
export const DEFAULT_ENVIRONMENT: Readonly<Record<string, string>> = {
  POWERTOOLS_SERVICE_NAME: 'pay-gateway',
  POWERTOOLS_METRICS_NAMESPACE: 'PayGateway',
  POWERTOOLS_LOG_LEVEL: 'INFO',
};

// Some bundled dependencies are CommonJS and call `require`; an ESM
// bundle has no `require`, so the banner defines one. The aliased import avoids clashing with bundled identifiers.
const ESM_REQUIRE_BANNER =
  "import { createRequire as __gatewayCreateRequire } from 'node:module';" +
  'const require = __gatewayCreateRequire(import.meta.url);';

/**
 * A `NodejsFunction` with the gateway's defaults: Node.js 22 on arm64, 512 MB, 10 s, active tracing, a one-month log
 * group, and a minified ESM bundle without a source map built by the locally installed esbuild (never Docker).
 *
 * Its role starts empty rather than with the `AWSLambdaBasicExecutionRole` managed policy (which may write to every
 * log group of the account): it may write its own log group only, and everything else is granted per function.
 */
export class GatewayFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: GatewayFunctionProps) {
    const { environment, bundling, projectRoot, ...rest } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      // Stateless stack: its logs go with it; the durable audit trail is the ledger in the table.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `pay-gateway ${id} function`,
    });
    // CreateLogStream + PutLogEvents on this log group's ARN (its streams), nothing on any other group.
    logGroup.grantWrite(role);
    super(scope, id, {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      ...rest,
      environment: { ...DEFAULT_ENVIRONMENT, ...environment },
      bundling: {
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        // DECISION: no source map. It was ~1 MB per function and, read at cold start by --enable-source-maps, made the
        // import slower (bench section 5 prints both); the logs' stack traces name minified frames instead. A
        // function that needs readable traces can pass `bundling: { sourceMap: true }` and NODE_OPTIONS itself.
        sourceMap: false,
        // DECISION: the AWS SDK v3 is bundled, not taken from the Lambda runtime, so the SDK versions the tests ran
        // against locally are exactly the ones deployed (the runtime's copy changes under us without a deploy).
        externalModules: [],
        forceDockerBundling: false,
        ...bundling,
      },
    });
    NagSuppressions.addResourceSuppressions(this, [
      {
        id: 'AwsSolutions-L1',
        reason:
          'nodejs22.x is deliberate: it is the runtime the bundles are built and tested for (Node 22 LTS, supported ' +
          'by Lambda into 2027); moving to a newer runtime is a tested change of GatewayFunction, not a default.',
      },
    ]);
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Resource "*" only for actions without resource-level permissions: X-Ray PutTraceSegments / ' +
            'PutTelemetryRecords (active tracing) and, for the table stream consumer, dynamodb:ListStreams (it lists ' +
            'stream ARNs, never items; the stream reads themselves are granted on the stream ARN).',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
  }
}
