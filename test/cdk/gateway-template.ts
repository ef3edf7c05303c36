import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { gatewayPropsFromContext } from '../../lib/gateway-context.ts';
import { GatewayStack } from '../../lib/gateway-stack.ts';

/** A CloudFormation resource as it appears in the synthesized template. */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
}

/** An IAM policy statement, with `Action` and `Resource` normalized to arrays. */
export interface Statement {
  Effect: string;
  Action: string[];
  Resource: unknown[];
  Condition?: Record<string, Record<string, unknown>>;
}

/** The synthesized gateway stack, its assertion template and its raw resources. */
export interface SynthesizedGateway {
  stack: GatewayStack;
  template: Template;
  resources: Record<string, CfnResource>;
}

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const cdkJson = JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** How a test deploys the gateway: the `-c` context values `bin/app.ts` reads. */
export interface GatewayOptions {
  /** `-c sandbox=true`. */
  readonly sandboxEnabled?: boolean;
  /** Other `-c key=value` context (e.g. `alarmEmail`). */
  readonly context?: Record<string, unknown>;
}

const synthesized = new Map<string, SynthesizedGateway>();

/**
 * A fresh, unsynthesized app and stack, with `cdk.json`'s feature flags and bundling skipped (fast, no esbuild), built
 * the way `bin/app.ts` builds it; aspects (e.g. cdk-nag) may still be added before synthesis.
 */
export function buildGateway(options: GatewayOptions = {}): { app: App; stack: GatewayStack } {
  const sandbox = options.sandboxEnabled ? { sandbox: 'true' } : {};
  const app = new App({
    context: { ...cdkJson.context, ...sandbox, ...options.context, 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new GatewayStack(app, 'PayGateway', { projectRoot, ...gatewayPropsFromContext(app) });
  return { app, stack };
}

/** Synthesizes the stack once per test file and set of options. */
export function synthesizeGateway(options: GatewayOptions = {}): SynthesizedGateway {
  const cacheKey = JSON.stringify(options);
  const cached = synthesized.get(cacheKey);
  if (cached) return cached;
  const { stack } = buildGateway(options);
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, CfnResource>;
  const result = { stack, template, resources };
  synthesized.set(cacheKey, result);
  return result;
}

/** The logical id of a construct's CloudFormation resource (its default child). */
export function logicalIdOf(construct: IConstruct): string {
  const element = construct.node.defaultChild as CfnElement | undefined;
  if (!element) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return element.stack.getLogicalId(element);
}

/** Every statement of the identity policies attached to the role with this logical id. */
export function roleStatements(resources: Record<string, CfnResource>, roleLogicalId: string): Statement[] {
  return Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy')
    .filter((policy) => JSON.stringify(policy.Properties?.Roles).includes(`"${roleLogicalId}"`))
    .flatMap((policy) => statementsOf(policy.Properties?.PolicyDocument));
}

/** Every identity-policy statement in the template: policies, managed policies and roles' inline policies. */
export function allIdentityStatements(resources: Record<string, CfnResource>): Statement[] {
  return Object.values(resources).flatMap((resource) => {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      return statementsOf(props.PolicyDocument);
    }
    if (resource.Type === 'AWS::IAM::Role') {
      const inline = (props.Policies ?? []) as { PolicyDocument: unknown }[];
      return inline.flatMap((policy) => statementsOf(policy.PolicyDocument));
    }
    return [];
  });
}

/**
 * A resource or condition value as text: an `Fn::Join` of literals and `Ref`s becomes one string with each `Ref` as
 * `<Name>` (e.g. `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:…`); anything else is its JSON.
 */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | null)?.['Fn::Join'];
  if (join) return join[1].map((part) => textOf(part)).join(join[0]);
  const ref = (value as { Ref?: string } | null)?.Ref;
  if (typeof ref === 'string') return `<${ref}>`;
  return JSON.stringify(value);
}

/** Whether a statement resource (a `Ref`, a `Fn::GetAtt` or an ARN built from one) names this logical id. */
export function refersTo(resource: unknown, logicalId: string): boolean {
  return JSON.stringify(resource).includes(`"${logicalId}"`);
}

function statementsOf(document: unknown): Statement[] {
  const raw = ((document as { Statement?: unknown[] } | undefined)?.Statement ?? []) as Record<string, unknown>[];
  return raw.map((statement) => ({
    Effect: String(statement.Effect),
    Action: ([] as string[]).concat(statement.Action as string | string[]),
    Resource: ([] as unknown[]).concat(statement.Resource),
    ...(statement.Condition ? { Condition: statement.Condition as Statement['Condition'] } : {}),
  }));
}
