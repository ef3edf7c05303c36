import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { STATE_MACHINES, type StateMachineDefinitionFile } from '#adapters/queue-definitions.ts';
import { WORKERS, type WorkerSpec } from '#routes';
import { type FunctionContext, type GatewayStateMachines, gatewayFunctionFor } from './function-access.ts';
import type { GatewayFunction } from './gateway-function.ts';

/** A state machine as `WorkerSpec` triggers name it. */
type WorkflowName = Extract<WorkerSpec['trigger'], { kind: 'state-machine-task' }>['stateMachine'];

/** Each workflow's definition file and name, under the key its access flag uses. */
const WORKFLOWS = {
  notifyRetry: { workflow: 'notify-retry', definition: STATE_MACHINES.notifyRetry },
  orderExpiry: { workflow: 'order-expiry', definition: STATE_MACHINES.orderExpiry },
} as const satisfies Record<
  keyof GatewayStateMachines,
  { workflow: WorkflowName; definition: StateMachineDefinitionFile }
>;

/** Properties of {@link GatewayWorkflows}. */
export interface GatewayWorkflowsProps {
  /** How the task functions are built; its `stateMachines` must be unset (they are what this construct creates). */
  readonly context: FunctionContext;
}

/**
 * The two Standard workflows, `notify-retry` and `order-expiry`, loaded from the same `statemachines/*.asl.json` the
 * local runner executes, and their task functions (the `WORKERS` with a `state-machine-task` trigger). Each state
 * machine may invoke exactly its own tasks.
 */
export class GatewayWorkflows extends Construct implements GatewayStateMachines {
  /** Retry schedule of a failed merchant notification. */
  readonly notifyRetry: StateMachine;
  /** One timer per expiry bucket that closes the bucket's still-pending orders. */
  readonly orderExpiry: StateMachine;
  /** The task functions, by `WorkerSpec.id`. */
  readonly functions: ReadonlyMap<string, GatewayFunction>;

  constructor(scope: Construct, id: string, props: GatewayWorkflowsProps) {
    super(scope, id);
    const functions = new Map<string, GatewayFunction>();
    const machine = (key: keyof GatewayStateMachines, constructId: string): StateMachine => {
      const { workflow, definition } = WORKFLOWS[key];
      const tasks = WORKERS.flatMap((spec) =>
        spec.trigger.kind === 'state-machine-task' && spec.trigger.stateMachine === workflow
          ? [{ spec, substitution: spec.trigger.substitution }]
          : [],
      );
      const taskFunctions = tasks.map(({ spec, substitution }) => {
        const fn = gatewayFunctionFor(this, spec, props.context);
        functions.set(spec.id, fn);
        return { fn, substitution };
      });
      const stateMachine = gatewayStateMachine(this, constructId, {
        definition,
        projectRoot: props.context.projectRoot,
        substitutions: Object.fromEntries(taskFunctions.map(({ fn, substitution }) => [substitution, fn.functionArn])),
      });
      // The unqualified ARNs the definition names: not `fn.grantInvoke`, which adds every version and alias (`:*`).
      stateMachine.addToRolePolicy(
        new PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: taskFunctions.map(({ fn }) => fn.functionArn),
        }),
      );
      return stateMachine;
    };
    this.notifyRetry = machine('notifyRetry', 'NotifyRetry');
    this.orderExpiry = machine('orderExpiry', 'OrderExpiry');
    this.functions = functions;
  }
}

/**
 * A Standard state machine from an ASL file, with `${Name}` placeholders replaced by CloudFormation
 * (`DefinitionSubstitutions`). The definition is inlined rather than uploaded as an asset (`DefinitionBody.fromFile`),
 * so the template shows — and a diff or test can check — the exact workflow that is deployed.
 */
function gatewayStateMachine(
  scope: Construct,
  id: string,
  props: { definition: StateMachineDefinitionFile; projectRoot: string; substitutions: Record<string, string> },
): StateMachine {
  const { name, aslPath } = props.definition;
  const asl = readFileSync(join(props.projectRoot, aslPath), 'utf8');
  const placeholders = [...new Set([...asl.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1] ?? ''))].sort();
  const provided = Object.keys(props.substitutions).sort();
  if (placeholders.join() !== provided.join()) {
    throw new Error(
      `${aslPath} uses \${${placeholders.join(', ')}} but its WORKERS tasks provide ${provided.join(', ')}`,
    );
  }
  const stateMachine = new StateMachine(scope, id, {
    stateMachineName: name,
    stateMachineType: StateMachineType.STANDARD,
    definitionBody: DefinitionBody.fromString(asl),
    definitionSubstitutions: props.substitutions,
    tracingEnabled: true,
    logs: {
      destination: new LogGroup(scope, `${id}Logs`, {
        // The vended-logs prefix keeps Step Functions' log delivery off the account's size-limited resource policy.
        logGroupName: `/aws/vendedlogs/states/${name}`,
        retention: RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      // Every event, so a stuck or failed execution can be followed state by state; without execution data: the
      // inputs and outputs hold payment and event ids and amounts. One execution per expiry minute and per failed
      // notification keeps the volume small.
      level: LogLevel.ALL,
      includeExecutionData: false,
    },
  });
  NagSuppressions.addResourceSuppressions(
    stateMachine,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'Resource "*" only for X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs ' +
          'delivery (CreateLogDelivery, PutResourcePolicy, DescribeLogGroups…), which support no resource-level ' +
          'permissions; Step Functions needs them for tracing and logging.',
        appliesTo: ['Resource::*'],
      },
    ],
    true,
  );
  return stateMachine;
}
