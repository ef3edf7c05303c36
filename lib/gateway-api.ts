import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpRoute, HttpRouteKey, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { FUNCTIONS, type FunctionSpec } from '#routes';
import { type FunctionContext, gatewayFunctionFor } from './function-access.ts';
import type { GatewayFunction } from './gateway-function.ts';

/** Properties of {@link GatewayApi}. */
export interface GatewayApiProps {
  /**
   * How the functions are built: the stateful resources and workflows they may be granted, and their settings. The
   * API's own URL replaces `publicBaseUrl`.
   */
  readonly context: Omit<FunctionContext, 'publicBaseUrl'>;
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
 * Why a route has no API Gateway authorizer (cdk-nag AwsSolutions-APIG4): every route authenticates in its function,
 * because what is signed differs per caller and an authorizer could not verify it without the body.
 */
function authorizationOf(spec: FunctionSpec): string {
  if (spec.access.table.claimsNonces) {
    return (
      'Merchant routes authenticate in the function (src/app/authenticate.ts): HMAC-SHA256 over method, path, ' +
      'timestamp, nonce and body with the merchant secret (KMS), a ±300 s window and a single-use nonce; an API ' +
      'Gateway authorizer cannot see the body it would have to verify.'
    );
  }
  if (spec.id === 'Callback') {
    return (
      'Channel callbacks are verified in the function with each channel own signature (Alipay RSA2, WeChat Pay ' +
      'RSA-SHA256 + AES-GCM, sandbox HMAC) over the raw body before anything is parsed or applied.'
    );
  }
  if (spec.sandboxOnly) {
    return (
      'The sandbox cashier pages are public by design (a payer opens pay_url in a browser), move only test ' +
      'money and exist only when the deployment enables the sandbox (-c sandbox=true).'
    );
  }
  return 'The $default route only answers the contract 404 / 405 envelopes; it reads and changes nothing.';
}

/**
 * The stateless resources: the HTTP API and one {@link GatewayFunction} per `FUNCTIONS` entry, with that entry's
 * routes and exactly the grants its `access` declares. The sandbox cashier (`sandboxOnly`) exists only when the
 * sandbox channel is enabled.
 */
export class GatewayApi extends Construct {
  /** The HTTP API. */
  readonly httpApi: HttpApi;
  /** The API's base URL, also every function's `PUBLIC_BASE_URL`. */
  readonly url: string;
  /** The functions, by `FunctionSpec.id`. */
  readonly functions: ReadonlyMap<string, GatewayFunction>;

  constructor(scope: Construct, id: string, props: GatewayApiProps) {
    super(scope, id);

    // The implicit default stage has neither throttling nor access logs, so the stage is declared explicitly.
    this.httpApi = new HttpApi(this, 'HttpApi', { apiName: 'pay-gateway', createDefaultStage: false });
    this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { burstLimit: 200, rateLimit: 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(
          new LogGroup(this, 'AccessLogs', {
            retention: RetentionDays.ONE_MONTH,
            removalPolicy: RemovalPolicy.DESTROY,
          }),
        ),
        format: ACCESS_LOG_FORMAT,
      },
    });

    // An attribute of the API resource itself: the functions depend on the API but not on its routes or stage, so
    // the routes, which depend on the functions, close no cycle.
    this.url = this.httpApi.apiEndpoint;

    const context: FunctionContext = { ...props.context, publicBaseUrl: this.url };
    const functions = new Map<string, GatewayFunction>();
    for (const spec of FUNCTIONS) {
      if (spec.sandboxOnly && !context.sandboxEnabled) continue;
      const fn = gatewayFunctionFor(this, spec, context);
      this.addRoutes(spec, fn);
      functions.set(spec.id, fn);
    }
    this.functions = functions;
  }

  private addRoutes(spec: FunctionSpec, fn: GatewayFunction): void {
    const integration = new HttpLambdaIntegration(`${spec.id}Integration`, fn);
    const routes: HttpRoute[] = [];
    for (const routeKey of spec.routes) {
      if (routeKey === '$default') {
        routes.push(
          new HttpRoute(this, `${spec.id}DefaultRoute`, {
            httpApi: this.httpApi,
            routeKey: HttpRouteKey.DEFAULT,
            integration,
          }),
        );
        continue;
      }
      const [method, path] = routeKey.split(' ');
      if (!method || !path || !(method in HttpMethod)) throw new Error(`${spec.id}: malformed route key "${routeKey}"`);
      routes.push(...this.httpApi.addRoutes({ path, methods: [method as HttpMethod], integration }));
    }
    const reason = authorizationOf(spec);
    for (const route of routes) NagSuppressions.addResourceSuppressions(route, [{ id: 'AwsSolutions-APIG4', reason }]);
  }
}
