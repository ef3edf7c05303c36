import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Aws, CfnOutput, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpRoute, HttpRouteKey, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { FUNCTIONS, type FunctionSpec } from '#routes';
import type { GatewayData } from './data-stack.ts';
import { accessEnvironment, grantAccess } from './function-access.ts';
import { GatewayFunction } from './gateway-function.ts';

/** The project root: `FunctionSpec.entry` paths are relative to it. */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Properties of the {@link GatewayApiStack}. */
export interface GatewayApiStackProps extends StackProps {
  /** The stateful resources, owned by the data stack. */
  readonly data: GatewayData;
}

/** One JSON access-log line per request, with HTTP API context variables only. */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    routeKey: '$context.routeKey',
    status: '$context.status',
    responseLength: '$context.responseLength',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
  }),
);

/**
 * The stateless half: the HTTP API and one {@link GatewayFunction} per `FUNCTIONS` entry, with that entry's routes and
 * exactly the grants its `access` declares.
 */
export class GatewayApiStack extends Stack {
  /** The HTTP API. */
  readonly httpApi: HttpApi;
  /** The functions, by `FunctionSpec.id`. */
  readonly functions: ReadonlyMap<string, GatewayFunction>;

  constructor(scope: Construct, id: string, props: GatewayApiStackProps) {
    super(scope, id, props);
    const { data } = props;

    // The stage is created below with throttling and access logs; the API's implicit one has neither.
    this.httpApi = new HttpApi(this, 'HttpApi', { apiName: 'pay-gateway', createDefaultStage: false });
    this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { burstLimit: 200, rateLimit: 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(
          new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
        ),
        format: ACCESS_LOG_FORMAT,
      },
    });

    // Built from the API id alone: the functions depend on the API resource, never on its routes, so the routes
    // (which depend on the functions) close no cycle.
    const publicBaseUrl = Fn.join('', ['https://', this.httpApi.apiId, '.execute-api.', Aws.REGION, '.', Aws.URL_SUFFIX]);

    const functions = new Map<string, GatewayFunction>();
    for (const spec of FUNCTIONS) {
      const fn = new GatewayFunction(this, spec.id, {
        entry: join(PROJECT_ROOT, spec.entry),
        projectRoot: PROJECT_ROOT,
        environment: accessEnvironment(spec.access, data, publicBaseUrl),
      });
      grantAccess(fn, spec.access, data);
      this.addRoutes(spec, fn);
      functions.set(spec.id, fn);
    }
    this.functions = functions;

    new CfnOutput(this, 'ApiUrl', { value: publicBaseUrl, description: 'Base URL of the gateway API' });
  }

  private addRoutes(spec: FunctionSpec, fn: GatewayFunction): void {
    const integration = new HttpLambdaIntegration(`${spec.id}Integration`, fn);
    for (const route of spec.routes) {
      if (route === '$default') {
        new HttpRoute(this, `${spec.id}DefaultRoute`, { httpApi: this.httpApi, routeKey: HttpRouteKey.DEFAULT, integration });
        continue;
      }
      const [method, path] = route.split(' ');
      if (!method || !path || !(method in HttpMethod)) throw new Error(`${spec.id}: malformed route key "${route}"`);
      this.httpApi.addRoutes({ path, methods: [method as HttpMethod], integration });
    }
  }
}
