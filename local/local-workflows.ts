// Over 250 lines: Step Functions Standard start semantics, Lambda task mapping and scaled waits in one adapter.
// Must come first: aws-local-stepfunctions needs `Promise.withResolvers`, which Node 20 lacks.
import './promise-polyfill.ts';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import { ExecutionError, type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { SfnWorkflows } from '#adapters/aws/sfn-workflows.ts';
import {
  NOTIFY_RETRY_STATE_MACHINE,
  ORDER_EXPIRY_STATE_MACHINE,
  type StateMachineDefinitionFile,
} from '#adapters/queue-definitions.ts';
import type { Workflows } from '#app/ports.ts';
import { invokeLocally } from './lambda-context.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './sqs.ts';

/** A Lambda function's handler, as `functions/*.ts` export it. */
export type TaskHandler = (event: unknown, context: Context) => Promise<unknown>;

/** A state machine to run locally: its ASL file, and the handler behind each `${…FunctionArn}` placeholder in it. */
export interface LocalStateMachine extends StateMachineDefinitionFile {
  /** E.g. `{ NotifyAttemptFunctionArn: handler }`: CDK substitutes the deployed function's ARN there. */
  tasks: Record<string, TaskHandler>;
}

/** One execution, as DescribeExecution would report it. */
export interface LocalExecution {
  stateMachineName: string;
  name: string;
  /** The input as JSON text (what a repeated start is compared with). */
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  output?: unknown;
  error?: string;
  cause?: string;
  /** States entered so far (nested ones included): what Standard workflows bill. */
  transitions: number;
}

const PROJECT_ROOT = resolve(import.meta.dirname, '..');
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
/** The Resource of a Wait state turned into a scaled timer (see `scaledWait`); never invoked remotely. */
const SCALED_WAIT = localFunctionArn('LocalScaledWait');

/** The ARN a local state machine has (the same account and region as the local queues). */
export function localStateMachineArn(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${name}`;
}

function localFunctionArn(name: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${name}`;
}

/**
 * Step Functions in this process: the same ASL files the CDK stack deploys, run by `aws-local-stepfunctions`, with
 * each Lambda task calling the local handler. Starts follow Step Functions Standard: the same name and input while
 * RUNNING is the same request again; any other reuse of a name, even after the execution ended, is `exists`.
 *
 * `waitTimeScale` (tests: 0.001) multiplies every Wait and Retry pause. The library's `waitTimeOverrides` is one fixed
 * duration per state, which cannot follow `SecondsPath`/`TimestampPath`, so each Wait then runs as a Task whose
 * Parameters the library evaluates from the same path, and whose handler sleeps the scaled time.
 */
export class LocalStepFunctions {
  /** The `Workflows` port over these state machines, for `setContainerOverrides`. */
  readonly workflows: Workflows = new SfnWorkflows(
    {
      notifyRetry: localStateMachineArn(NOTIFY_RETRY_STATE_MACHINE),
      orderExpiry: localStateMachineArn(ORDER_EXPIRY_STATE_MACHINE),
    },
    async (arn, name, input) => this.start(arn, name, input),
  );
  private readonly machines = new Map<
    string,
    { name: string; machine: StateMachine; overrides: RunOptions['overrides'] }
  >();
  private readonly runs: { execution: LocalExecution; abort(): void; done: Promise<unknown> }[] = [];
  private readonly stopping = new AbortController();

  constructor(stateMachines: LocalStateMachine[], waitTimeScale = 1) {
    for (const spec of stateMachines) {
      const definition = load(spec);
      const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
      const retryIntervalOverrides: Record<string, number[]> = {};
      forEachState(definition, (states, stateName, state) => {
        if (Object.hasOwn(handlers, stateName)) throw new Error(`${spec.name}: state "${stateName}" is named twice`);
        if (state.Type === 'Task') handlers[stateName] = lambdaTask(spec, stateName, state);
        if (state.Type === 'Wait' && waitTimeScale !== 1) {
          states[stateName] = scaledWaitState(state);
          handlers[stateName] = (input) => scaledWait(input, waitTimeScale, this.stopping.signal);
        }
        if (Array.isArray(state.Retry) && waitTimeScale !== 1) {
          retryIntervalOverrides[stateName] = state.Retry.map((r: { IntervalSeconds?: number }) =>
            Math.round((r.IntervalSeconds ?? 1) * 1000 * waitTimeScale),
          );
        }
      });
      this.machines.set(localStateMachineArn(spec.name), {
        name: spec.name,
        machine: new StateMachine(definition as StateMachineDefinition),
        overrides: { taskResourceLocalHandlers: handlers as LocalHandlers, retryIntervalOverrides },
      });
    }
  }

  /** StartExecution: `started`, or `exists` where Step Functions answers ExecutionAlreadyExists. */
  async start(stateMachineArn: string, name: string, input: unknown): Promise<'started' | 'exists'> {
    const target = this.machines.get(stateMachineArn);
    if (!target) throw new Error(`StateMachineDoesNotExist: ${stateMachineArn}`);
    const text = JSON.stringify(input);
    const previous = this.runs.find((r) => r.execution.stateMachineName === target.name && r.execution.name === name);
    if (previous)
      return previous.execution.status === 'RUNNING' && previous.execution.input === text ? 'started' : 'exists';
    const execution: LocalExecution = {
      stateMachineName: target.name,
      name,
      input: text,
      status: 'RUNNING',
      transitions: 0,
    };
    const run = target.machine.run(JSON.parse(text), {
      overrides: target.overrides,
      context: {
        Execution: {
          Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:execution:${target.name}:${name}`,
          Name: name,
        },
        StateMachine: { Id: stateMachineArn, Name: target.name },
      },
    });
    const counted = (async () => {
      for await (const event of run.eventLogs) if (event.type === 'StateEntered') execution.transitions += 1;
    })();
    const settled = run.result.then(
      (output) => Object.assign(execution, { status: 'SUCCEEDED', output }),
      (error: unknown) => {
        if (execution.status !== 'RUNNING') return; // stopped
        // ExecutionError wraps the state's error: a Fail state's Error, a handler's error class, States.Runtime…
        const cause = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
        Object.assign(execution, { status: 'FAILED', error: (cause as Error).name, cause: (cause as Error).message });
      },
    );
    this.runs.push({ execution, abort: run.abort, done: Promise.all([settled, counted]) });
    return 'started';
  }

  /** Every execution so far, oldest first, optionally of one state machine. */
  executions(stateMachineName?: string): LocalExecution[] {
    return this.runs
      .map((r) => ({ ...r.execution }))
      .filter((e) => stateMachineName === undefined || e.stateMachineName === stateMachineName);
  }

  /** Resolves once no execution is running, including those started while waiting. */
  async idle(): Promise<void> {
    for (;;) {
      const running = this.runs.filter((r) => r.execution.status === 'RUNNING');
      if (!running.length) return;
      await Promise.all(running.map((r) => r.done));
    }
  }

  /** Aborts the running executions. */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const { execution, abort } of this.runs) {
      if (execution.status !== 'RUNNING') continue;
      execution.status = 'ABORTED';
      abort();
    }
    await Promise.all(this.runs.map((r) => r.done));
  }
}

type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type AslState = { Type: string; [field: string]: unknown };
type AslMachine = { StartAt: string; States: Record<string, AslState> };

/** Reads the ASL file and substitutes each `${Placeholder}` like CDK's DefinitionSubstitutions. */
function load(spec: LocalStateMachine): AslMachine {
  const text = readFileSync(resolve(PROJECT_ROOT, spec.aslPath), 'utf8');
  return JSON.parse(
    text.replace(/\$\{(\w+)\}/g, (_match, key: string) => {
      if (!Object.hasOwn(spec.tasks, key)) throw new Error(`${spec.name}: no local handler for \${${key}}`);
      return functionArnOf(key);
    }),
  ) as AslMachine;
}

/** `NotifyAttemptFunctionArn` → the ARN of a function named `NotifyAttempt`, the name its Lambda context reports. */
function functionArnOf(placeholder: string): string {
  return localFunctionArn(placeholder.replace(/FunctionArn$/, ''));
}

function forEachState(
  machine: AslMachine,
  visit: (states: AslMachine['States'], name: string, state: AslState) => void,
) {
  for (const [name, state] of Object.entries(machine.States)) {
    visit(machine.States, name, state);
    for (const branch of (state.Branches as AslMachine[] | undefined) ?? []) forEachState(branch, visit);
    const iterator = (state.ItemProcessor ?? state.Iterator) as AslMachine | undefined;
    if (iterator) forEachState(iterator, visit);
  }
}

/**
 * A Lambda task's local stand-in: `lambda:invoke` calls the handler with `Payload` and answers with the Invoke API's
 * envelope (the ASL reads `$.Payload…`); a function ARN as Resource calls it with the state input.
 */
function lambdaTask(spec: LocalStateMachine, stateName: string, state: AslState) {
  const invoke = state.Resource === LAMBDA_INVOKE;
  const functionArn = String(invoke ? (state.Parameters as { FunctionName?: unknown })?.FunctionName : state.Resource);
  const placeholder = Object.keys(spec.tasks).find((key) => functionArnOf(key) === functionArn);
  const handler = placeholder && spec.tasks[placeholder];
  if (!handler) throw new Error(`${spec.name}: no local handler for ${functionArn} (state "${stateName}")`);
  const functionName = functionArn.split(':').pop() ?? stateName;
  return async (input: unknown) => {
    const event = invoke ? (input as { Payload?: unknown }).Payload : input;
    // A JSON copy in and out, as across the Lambda API.
    const result = toJson(await invokeLocally(functionName, handler, toJson(event)));
    return invoke ? { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 } : result;
  };
}

function toJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

/** A Wait as a Task: the library resolves the wait's field into Parameters; `ResultPath: null` passes the input on. */
function scaledWaitState(state: AslState): AslState {
  const { Seconds, SecondsPath, Timestamp, TimestampPath, ...rest } = state;
  const parameters =
    SecondsPath !== undefined
      ? { 'seconds.$': SecondsPath }
      : TimestampPath !== undefined
        ? { 'timestamp.$': TimestampPath }
        : Seconds !== undefined
          ? { seconds: Seconds }
          : { timestamp: Timestamp };
  // A Task times out after 60 s in the library unless told otherwise; a Wait never does (as long as a Node timer can).
  return {
    ...rest,
    Type: 'Task',
    Resource: SCALED_WAIT,
    Parameters: parameters,
    ResultPath: null,
    TimeoutSeconds: 2_147_483,
  };
}

async function scaledWait(input: unknown, scale: number, signal: AbortSignal): Promise<null> {
  const { seconds, timestamp } = input as { seconds?: unknown; timestamp?: unknown };
  const ms = typeof seconds === 'number' ? seconds * 1000 : Date.parse(String(timestamp)) - Date.now();
  if (Number.isNaN(ms))
    throw new TypeError(`Wait: neither seconds nor an RFC 3339 timestamp: ${JSON.stringify(input)}`);
  await sleep(Math.max(0, ms) * scale, undefined, { signal }).catch(() => undefined);
  return null;
}
