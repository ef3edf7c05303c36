import { describe, expect, it } from 'vitest';
import { FUNCTIONS, WORKERS } from '#routes';
import { functionMemory, functionTimeout } from '../../lib/worker-settings.ts';
import { type CfnResource, logicalIdOf, refersTo, synthesizeGateway } from './gateway-template.ts';

/** Logical ids a resource depends on: `Ref`, `Fn::GetAtt` and `DependsOn`. */
function dependenciesOf(resource: CfnResource): string[] {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'Ref' && typeof value === 'string') found.push(value);
        else if (key === 'Fn::GetAtt')
          found.push(Array.isArray(value) ? String(value[0]) : (String(value).split('.')[0] ?? ''));
        else visit(value);
      }
    }
  };
  visit(resource.Properties);
  return found.concat(resource.DependsOn ?? []);
}

/** The HTTP functions of a deployment without the sandbox (the default). */
const PRODUCTION_FUNCTIONS = FUNCTIONS.filter((spec) => !spec.sandboxOnly);
const SANDBOX_ROUTES = FUNCTIONS.filter((spec) => spec.sandboxOnly).flatMap((spec) => spec.routes);

/** The route keys and gateway function ids (not CDK's own handlers) of a synthesized stack. */
function deployedOf(resources: Record<string, CfnResource>) {
  return {
    routeKeys: Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
      .map((route) => String(route.Properties?.RouteKey))
      .sort(),
    lambdas: Object.keys(resources).filter(
      (id) => resources[id]?.Type === 'AWS::Lambda::Function' && !id.startsWith('BucketNotificationsHandler'),
    ),
  };
}

describe('gateway API', () => {
  const { stack, template, resources } = synthesizeGateway();
  const everyFunction = [...PRODUCTION_FUNCTIONS, ...WORKERS];
  const functionOf = (id: string) => {
    const fn = stack.functions.get(id);
    if (!fn) throw new Error(`no function ${id}`);
    return fn;
  };
  const propertiesOf = (id: string): Record<string, unknown> =>
    resources[logicalIdOf(functionOf(id))]?.Properties ?? {};
  const variablesOf = (id: string): Record<string, unknown> =>
    (propertiesOf(id).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};

  it('creates one Node.js 22 arm64 function with active tracing per FUNCTIONS and WORKERS entry', () => {
    // Besides them, only CDK's handler of the bills bucket's notification configuration (a custom resource).
    const lambdas = Object.entries(resources).filter(([, resource]) => resource.Type === 'AWS::Lambda::Function');
    const gateway = lambdas.filter(([id]) => !id.startsWith('BucketNotificationsHandler'));
    expect(gateway.length).toBe(everyFunction.length);
    expect(lambdas.length - gateway.length).toBe(1);
    expect(stack.functions.size).toBe(everyFunction.length);
    for (const spec of everyFunction) {
      expect(propertiesOf(spec.id), spec.id).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        MemorySize: functionMemory(spec.id),
        Timeout: functionTimeout(spec.id).toSeconds(),
        Handler: 'index.handler',
      });
    }
  });

  it('hands callbacks to the Callback function as HTTP API payload v2, so requestContext.http.sourceIp is the peer', () => {
    // API Gateway fills `requestContext.http.sourceIp` from the TCP connection in payload 2.0; the allowlist reads
    // only that. Nothing may sit in front (CloudFront would make it an edge address) or rewrite the request.
    const route = Object.values(resources).find(
      (resource) =>
        resource.Type === 'AWS::ApiGatewayV2::Route' &&
        resource.Properties?.RouteKey === 'POST /v1/callbacks/{channel}',
    );
    const target = route?.Properties?.Target as { 'Fn::Join': [string, unknown[]] };
    const reference = target['Fn::Join'][1].find((part) => typeof part === 'object') as { Ref: string };
    const integration = resources[reference.Ref];
    expect(integration?.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    expect(integration?.Properties?.RequestParameters).toBeUndefined();
    expect(refersTo(integration?.Properties?.IntegrationUri, logicalIdOf(functionOf('Callback')))).toBe(true);
    const types = new Set(Object.values(resources).map((resource) => resource.Type));
    expect([...types].filter((type) => /CloudFront|ApiGatewayV2::(DomainName|ApiMapping)/.test(type))).toEqual([]);
  });

  it('gives the HTTP functions the 10 s default timeout', () => {
    for (const spec of PRODUCTION_FUNCTIONS) expect(propertiesOf(spec.id).Timeout, spec.id).toBe(10);
  });

  it('sends each function to its own log group kept for one month', () => {
    for (const spec of everyFunction) {
      const { LogGroup: logGroup } = propertiesOf(spec.id).LoggingConfig as { LogGroup: { Ref: string } };
      expect(resources[logGroup.Ref]).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: 30 },
      });
    }
  });

  it('gives every function the Powertools settings, table name and public base URL, and no source-map loader', () => {
    for (const spec of everyFunction) {
      const variables = variablesOf(spec.id);
      expect(variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'pay-gateway',
        POWERTOOLS_METRICS_NAMESPACE: 'PayGateway',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        TABLE_NAME: { Ref: logicalIdOf(stack.data.table) },
      });
      // Bundles ship without source maps (they cost import time and ~1 MB each; see bench section 5).
      expect(variables.NODE_OPTIONS).toBeUndefined();
      expect(variables.PUBLIC_BASE_URL).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack.api.httpApi), 'ApiEndpoint'] });
    }
  });

  it('leaves the sandbox channel off unless the deployment turns it on', () => {
    for (const spec of everyFunction) expect(variablesOf(spec.id).SANDBOX_ENABLED, spec.id).toBe('false');
  });

  it('names the merchant key, the sandbox secret, the queues and the workflows only to functions that may use them', () => {
    for (const spec of everyFunction) {
      const variables = variablesOf(spec.id);
      const { access } = spec;
      expect('MERCHANT_KEY_ID' in variables, spec.id).toBe(access.merchantKey === 'decrypt');
      // Without the sandbox nobody needs its secret (the grant follows: test/cdk/least-privilege.test.ts).
      expect('SANDBOX_SECRET_ARN' in variables, spec.id).toBe(false);
      expect('NOTIFY_QUEUE_URL' in variables, spec.id).toBe(access.notifyQueue === true);
      expect('NOTIFY_DLQ_URL' in variables, spec.id).toBe(access.notifyDeadLetters === true);
      expect('NOTIFY_RETRY_STATE_MACHINE_ARN' in variables, spec.id).toBe(access.startNotifyRetry === true);
      expect('ORDER_EXPIRY_STATE_MACHINE_ARN' in variables, spec.id).toBe(access.startOrderExpiry === true);
      expect(variables.BILLS_BUCKET, spec.id).toEqual(
        access.billsRead || access.billsWrite ? { Ref: logicalIdOf(stack.data.billsBucket) } : undefined,
      );
      expect(variables.REPORTS_BUCKET, spec.id).toEqual(
        access.reportsRead || access.reportsWrite ? { Ref: logicalIdOf(stack.data.reportsBucket) } : undefined,
      );
    }
  });

  it('tells only GetReconciliation which merchants are finance (nobody unless the context says)', () => {
    const named = everyFunction.filter((spec) => 'FINANCE_MERCHANT_IDS' in variablesOf(spec.id)).map((s) => s.id);
    expect(named).toEqual(['GetReconciliation']);
    expect(variablesOf('GetReconciliation').FINANCE_MERCHANT_IDS).toBe('');
  });

  it('gives the reconciler 15 minutes and the bill downloader 10 at 1,769 MB, every other function 512 MB', () => {
    expect(propertiesOf('Reconcile')).toMatchObject({ Timeout: 900, MemorySize: 1769 });
    expect(propertiesOf('FetchBills')).toMatchObject({ Timeout: 600, MemorySize: 1769 });
    for (const spec of everyFunction.filter((s) => s.id !== 'Reconcile' && s.id !== 'FetchBills')) {
      expect(propertiesOf(spec.id).MemorySize, spec.id).toBe(512);
    }
  });

  it('routes every route key of FUNCTIONS but the sandbox pages, including $default, to its own function', () => {
    const routes = Object.values(resources).filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route');
    const expected = PRODUCTION_FUNCTIONS.flatMap((spec) => spec.routes);
    expect(routes.map((route) => route.Properties?.RouteKey).sort()).toEqual([...expected].sort());
    expect(expected).toContain('$default');
    for (const spec of PRODUCTION_FUNCTIONS) {
      for (const routeKey of spec.routes) {
        const route = routes.find((candidate) => candidate.Properties?.RouteKey === routeKey);
        const integrationId = dependenciesOf(route as CfnResource).find(
          (id) => resources[id]?.Type === 'AWS::ApiGatewayV2::Integration',
        );
        const integration = resources[integrationId ?? 'missing'];
        expect(integration?.Properties?.IntegrationType, routeKey).toBe('AWS_PROXY');
        expect(dependenciesOf(integration as CfnResource), routeKey).toContain(logicalIdOf(functionOf(spec.id)));
      }
    }
  });

  it('throttles the auto-deployed $default stage and writes JSON access logs', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    const stage = Object.values(resources).find((resource) => resource.Type === 'AWS::ApiGatewayV2::Stage');
    expect(stage?.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 },
    });
    const accessLogs = stage?.Properties?.AccessLogSettings as { Format: string };
    expect(JSON.parse(accessLogs.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
  });

  it('forms no dependency cycle, although the functions know the API URL and the routes know the functions', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[][] = [];
    const visit = (id: string, path: string[]): void => {
      state.set(id, 'visiting');
      for (const next of dependenciesOf(resources[id] as CfnResource).filter((dep) => dep in resources)) {
        if (state.get(next) === 'visiting') cycles.push([...path, next]);
        else if (!state.has(next)) visit(next, [...path, next]);
      }
      state.set(id, 'done');
    };
    for (const id of Object.keys(resources)) if (!state.has(id)) visit(id, [id]);
    expect(cycles).toEqual([]);
  });
});

describe('sandbox deployment', () => {
  const production = synthesizeGateway();
  const sandbox = synthesizeGateway({ sandboxEnabled: true });

  it('deploys the sandbox cashier and its routes only when the sandbox is enabled', () => {
    const without = deployedOf(production.resources);
    const withSandbox = deployedOf(sandbox.resources);
    expect(SANDBOX_ROUTES).toHaveLength(4);
    expect(withSandbox.lambdas.length - without.lambdas.length).toBe(1);
    expect(withSandbox.routeKeys.length - without.routeKeys.length).toBe(SANDBOX_ROUTES.length);
    expect(without.routeKeys.filter((key) => key.includes('/sandbox/'))).toEqual([]);
    expect(withSandbox.routeKeys.filter((key) => key.includes('/sandbox/'))).toEqual([...SANDBOX_ROUTES].sort());
    expect(production.stack.functions.has('SandboxCashier')).toBe(false);
    expect(sandbox.stack.functions.has('SandboxCashier')).toBe(true);
    expect(without.lambdas.some((id) => id.includes('SandboxCashier'))).toBe(false);
  });

  it('turns the sandbox channel on in every function of a sandbox deployment', () => {
    for (const fn of sandbox.stack.functions.values()) {
      const properties = sandbox.resources[logicalIdOf(fn)]?.Properties as {
        Environment: { Variables: Record<string, unknown> };
      };
      expect(properties.Environment.Variables.SANDBOX_ENABLED, fn.node.path).toBe('true');
    }
  });

  it('names the sandbox secret, and grants it, only in a sandbox deployment and only to functions that declare it', () => {
    for (const [gateway, enabled] of [
      [production, false],
      [sandbox, true],
    ] as const) {
      for (const [id, fn] of gateway.stack.functions) {
        const variables = ((
          gateway.resources[logicalIdOf(fn)]?.Properties?.Environment as {
            Variables?: Record<string, unknown>;
          }
        )?.Variables ?? {}) as Record<string, unknown>;
        const declared = [...FUNCTIONS, ...WORKERS].find((spec) => spec.id === id);
        expect('SANDBOX_SECRET_ARN' in variables, id).toBe(enabled && declared?.access.sandboxSecret === true);
      }
      const secret = logicalIdOf(gateway.stack.data.sandboxSecret);
      const reads = Object.values(gateway.resources).filter(
        (resource) => resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties).includes(secret),
      );
      expect(reads.length > 0, `sandbox ${enabled}`).toBe(enabled);
    }
  });

  it('never lets a deployed function notify loopback URLs, sandbox or not', () => {
    const environments = [production, sandbox].flatMap((gateway) =>
      Object.values(gateway.resources)
        .filter((resource) => resource.Type === 'AWS::Lambda::Function')
        .map(
          (resource) => (resource.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {},
        ),
    );
    expect(environments.length).toBeGreaterThan(20);
    // And loadConfig ignores the setting inside any Lambda function (test/integration/guarded-egress.test.ts).
    for (const variables of environments) expect(variables.ALLOW_LOOPBACK_HTTP).toBeUndefined();
  });
});
