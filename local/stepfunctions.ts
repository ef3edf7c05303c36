// Must come first: aws-local-stepfunctions needs `Promise.withResolvers`, which Node 20 lacks.
import './promise-polyfill.ts';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isAbsolute, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import type { RunOptions, StateMachine, StateMachineDefinition } from 'aws-local-stepfunctions';
import { localLambdaContext } from './lambda-context.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './sqs.ts';

/**
 * A local stand-in for a Task state's resource. For Lambda resources it is the function's handler: it receives the
 * event (the effective input, or `Payload` for `lambda:invoke`) and a Lambda context, so a module's exported `handler`
 * can be passed as is.
 */
export type TaskHandler = (input: unknown, context: Context) => Promise<unknown>;

/** A state machine the local server runs. */
export interface LocalStateMachine {
  /** State machine name; its ARN is {@link localStateMachineArn}(name). */
  name: string;
  /** ASL file (relative to `projectRoot`), e.g. `statemachines/notify-retry.asl.json`. */
  aslPath?: string;
  /** Or the ASL itself (text or object), e.g. written in a test. */
  definition?: string | object;
  /** `${Name}` placeholders and their values, as CDK's `DefinitionSubstitutions` (the values are usually ARNs). */
  substitutions?: Record<string, string>;
  /**
   * Local handlers keyed by Lambda function ARN (or bare function name; a qualifier is ignored) for Lambda tasks, or
   * by the exact `Resource` for any other integration.
   */
  taskHandlers?: Record<string, TaskHandler>;
}

/** Options of {@link startLocalStepFunctions}. */
export interface LocalStepFunctionsOptions {
  stateMachines: LocalStateMachine[];
  /**
   * Multiplies every Wait state's duration (`Seconds`, `SecondsPath`, and the time left until `Timestamp` or
   * `TimestampPath`), e.g. 0.001 in tests. When not 1, each Retry pause becomes `IntervalSeconds × scale` (the
   * library overrides a retrier's pause with one fixed value, so BackoffRate and jitter are not reproduced then).
   */
  waitTimeScale?: number;
  /** Port on 127.0.0.1; a free one by default. */
  port?: number;
  /** Where relative `aslPath`s are resolved; the working directory by default. */
  projectRoot?: string;
}

/** Terminal and running statuses, as DescribeExecution reports them. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** What the local server knows about one execution. */
export interface LocalExecution {
  executionArn: string;
  stateMachineArn: string;
  stateMachineName: string;
  name: string;
  status: ExecutionStatus;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  /** States entered so far (nested Map/Parallel states included): what Standard workflows bill as transitions. */
  transitions: number;
  startDate: Date;
  stopDate?: Date;
}

/** A running local Step Functions endpoint. */
export interface LocalStepFunctions {
  /** `http://127.0.0.1:<port>`: what AWS_ENDPOINT_URL_SFN (or a client's `endpoint`) must point at. */
  endpoint: string;
  /** The ARN of a registered state machine. */
  stateMachineArn(name: string): string;
  /** A snapshot of all executions so far, oldest first, optionally of one state machine. */
  executions(stateMachineName?: string): LocalExecution[];
  /** Resolves once no execution is running (including executions started while waiting). */
  idle(): Promise<void>;
  /** Aborts running executions and closes the server. */
  stop(): Promise<void>;
}

/** The ARN the local server gives a state machine (deterministic, so configuration can be set before it starts). */
export function localStateMachineArn(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stateMachine:${name}`;
}

/** The Lambda ARN of a function name in the local account, for substitutions and `taskHandlers` keys. */
export function localFunctionArn(name: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${name}`;
}

/**
 * A state machine from its shared definition file whose `${Placeholder}`s all name Lambda functions: each placeholder
 * becomes a local function ARN (as CDK substitutes the deployed function's ARN) bound to the given handler. The
 * function is named after the placeholder without its `FunctionArn` suffix (`NotifyAttemptFunctionArn` →
 * `NotifyAttempt`), which is the name the handler's Lambda context reports.
 */
export function localStateMachine(
  file: { name: string; aslPath: string },
  tasks: Record<string, TaskHandler>,
): LocalStateMachine {
  const substitutions: Record<string, string> = {};
  const taskHandlers: Record<string, TaskHandler> = {};
  for (const [placeholder, handler] of Object.entries(tasks)) {
    substitutions[placeholder] = localFunctionArn(placeholder.replace(/(Function)?Arn$/, '') || placeholder);
    taskHandlers[substitutions[placeholder]] = handler;
  }
  return { name: file.name, aslPath: file.aslPath, substitutions, taskHandlers };
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:/;
/** Stands in for the Resource of a Wait state rewritten into a Task (see `prepare`); never invoked remotely. */
const WAIT_RESOURCE = localFunctionArn('local-stepfunctions-wait');
/** Longest timer Node can arm (2^31 - 1 ms); longer ones fire at once, so long waits are slept in pieces. */
const MAX_TIMER_MS = 2_147_483_647;
/** The rewritten Wait's Task timeout: as long as Node allows (the library's Task default of 60 s would cut it). */
const WAIT_TASK_TIMEOUT_SECONDS = Math.floor(MAX_TIMER_MS / 1000);
/** StartExecution's input limit on AWS. */
const MAX_INPUT_BYTES = 256 * 1024;
/** Execution names AWS accepts: 1-80 characters, no whitespace, brackets, wildcards, or URL-special characters. */
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\p{Cc}]{1,80}$/u;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type AslState = { Type: string; [field: string]: unknown };
type AslMachine = { StartAt: string; States: Record<string, AslState>; [field: string]: unknown };
type WaitSpec = Pick<AslState, 'Seconds' | 'SecondsPath' | 'Timestamp' | 'TimestampPath'>;
type TaskBinding =
  | { kind: 'lambda-invoke'; functionName?: string; handler?: TaskHandler }
  | { kind: 'handler'; functionName: string; handler: TaskHandler };

interface PreparedMachine {
  name: string;
  arn: string;
  machine: StateMachine;
  handlers: Record<string, TaskHandler>;
  tasks: Map<string, TaskBinding>;
  waits: Map<string, WaitSpec>;
  retryOverrides: Record<string, number[]>;
}

interface ExecutionRecord extends LocalExecution {
  rawInput: string;
  abort: () => void;
  done: Promise<void>;
}

/**
 * Starts a local Step Functions endpoint on 127.0.0.1 speaking the AWS JSON 1.0 protocol for StartExecution,
 * DescribeExecution, ListExecutions and StopExecution, so the gateway's `@aws-sdk/client-sfn` calls work unchanged.
 * Executions run in this process with `aws-local-stepfunctions`; Task states call the given local handlers.
 */
export async function startLocalStepFunctions(options: LocalStepFunctionsOptions): Promise<LocalStepFunctions> {
  // Loaded lazily: importing this module (for the ARN helpers) must not pull the interpreter into every process.
  const { StateMachine: AslStateMachine } = await import('aws-local-stepfunctions');
  const scale = options.waitTimeScale ?? 1;
  if (!(scale >= 0)) throw new Error('waitTimeScale must be a number >= 0');
  const machines = new Map<string, PreparedMachine>();
  for (const spec of options.stateMachines) {
    if (machines.has(spec.name)) throw new Error(`state machine ${spec.name} is registered twice`);
    const prepared = prepare(spec, options.projectRoot ?? process.cwd(), scale);
    machines.set(spec.name, {
      ...prepared,
      machine: new AslStateMachine(prepared.definition as unknown as StateMachineDefinition),
    });
  }
  const byArn = new Map([...machines.values()].map((machine) => [machine.arn, machine]));
  const executions = new Map<string, ExecutionRecord>();

  const start = (machine: PreparedMachine, name: string, rawInput: string, input: Json): ExecutionRecord => {
    const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:execution:${machine.name}:${name}`;
    const startDate = new Date();
    const stopping = new AbortController();
    const context = {
      Execution: {
        Id: executionArn,
        Name: name,
        Input: input,
        StartTime: startDate.toISOString(),
        RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/local-stepfunctions`,
      },
      StateMachine: { Id: machine.arn, Name: machine.name },
    };
    const run = machine.machine.run(input, {
      overrides: {
        taskResourceLocalHandlers: localHandlers(machine, { context, signal: stopping.signal, scale }),
        ...(scale !== 1 ? { retryIntervalOverrides: machine.retryOverrides } : {}),
      },
      context,
    } as RunOptions);
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      stateMachineName: machine.name,
      name,
      status: 'RUNNING',
      input,
      rawInput,
      transitions: 0,
      startDate,
      abort: () => {
        stopping.abort();
        run.abort();
      },
      done: Promise.resolve(),
    };
    const counting = (async () => {
      for await (const event of run.eventLogs) if (event.type === 'StateEntered') record.transitions += 1;
    })();
    record.done = run.result
      .then(
        (output: unknown) => {
          record.status = 'SUCCEEDED';
          record.output = output ?? null;
        },
        (error: unknown) => settleFailure(record, error),
      )
      .then(async () => {
        record.stopDate = new Date();
        // Waits still pending after an abort or a failure must not keep the process alive.
        stopping.abort();
        await counting;
      });
    executions.set(executionArn, record);
    return record;
  };

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    StartExecution(body) {
      const machine = byArn.get(String(body.stateMachineArn ?? ''));
      if (!machine)
        throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${body.stateMachineArn}'`);
      const name = body.name === undefined ? randomUUID() : String(body.name);
      if (!EXECUTION_NAME.test(name)) throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
      const rawInput = body.input === undefined ? '{}' : String(body.input);
      if (Buffer.byteLength(rawInput) > MAX_INPUT_BYTES) {
        throw new ApiError('InvalidExecutionInput', 'Execution input exceeds the 256 KiB limit');
      }
      let input: Json;
      try {
        input = JSON.parse(rawInput) as Json;
      } catch {
        throw new ApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${rawInput}'`);
      }
      const existing = [...executions.values()].find((e) => e.stateMachineArn === machine.arn && e.name === name);
      if (existing) {
        // AWS: the same name and input as a RUNNING execution is the same request again; anything else is a clash
        // (Standard workflows never reuse a name, not even after the execution ended).
        if (existing.status === 'RUNNING' && existing.rawInput === rawInput) {
          return { executionArn: existing.executionArn, startDate: epochSeconds(existing.startDate) };
        }
        throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.executionArn}'`);
      }
      const record = start(machine, name, rawInput, input);
      return { executionArn: record.executionArn, startDate: epochSeconds(record.startDate) };
    },
    DescribeExecution(body) {
      const record = executions.get(String(body.executionArn ?? ''));
      if (!record) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn}'`);
      return {
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: epochSeconds(record.startDate),
        ...(record.stopDate ? { stopDate: epochSeconds(record.stopDate) } : {}),
        input: record.rawInput,
        inputDetails: { included: true },
        ...(record.status === 'SUCCEEDED'
          ? { output: JSON.stringify(record.output), outputDetails: { included: true } }
          : {}),
        ...(record.error !== undefined ? { error: record.error } : {}),
        ...(record.cause !== undefined ? { cause: record.cause } : {}),
      };
    },
    ListExecutions(body) {
      const machine = byArn.get(String(body.stateMachineArn ?? ''));
      if (!machine)
        throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${body.stateMachineArn}'`);
      const statusFilter = body.statusFilter === undefined ? undefined : String(body.statusFilter);
      const maxResults = Math.min(Math.max(Number(body.maxResults) || 100, 1), 1000);
      const offset = body.nextToken ? Number(Buffer.from(String(body.nextToken), 'base64url').toString()) : 0;
      if (!Number.isInteger(offset) || offset < 0) throw new ApiError('InvalidToken', 'Invalid Token');
      // Newest first, as AWS lists them.
      const matching = [...executions.values()]
        .filter((e) => e.stateMachineArn === machine.arn && (!statusFilter || e.status === statusFilter))
        .reverse();
      const page = matching.slice(offset, offset + maxResults);
      return {
        executions: page.map((e) => ({
          executionArn: e.executionArn,
          stateMachineArn: e.stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: epochSeconds(e.startDate),
          ...(e.stopDate ? { stopDate: epochSeconds(e.stopDate) } : {}),
        })),
        ...(offset + maxResults < matching.length
          ? { nextToken: Buffer.from(String(offset + maxResults)).toString('base64url') }
          : {}),
      };
    },
    StopExecution(body) {
      const record = executions.get(String(body.executionArn ?? ''));
      if (!record) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${body.executionArn}'`);
      if (record.status === 'RUNNING') {
        record.status = 'ABORTED';
        if (body.error !== undefined) record.error = String(body.error);
        if (body.cause !== undefined) record.cause = String(body.cause);
        record.stopDate = new Date();
        record.abort();
      }
      return { stopDate: epochSeconds(record.stopDate ?? new Date()) };
    },
  };

  const server: Server = createServer((req, res) => {
    handleRequest(req, res, operations).catch((error) => {
      console.error('local step functions failure', error);
      if (!res.headersSent) writeError(res, 500, 'InternalFailure', 'Internal failure');
    });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => done());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('local step functions has no address');

  const idle = async () => {
    for (;;) {
      const running = [...executions.values()].filter((e) => e.status === 'RUNNING');
      if (!running.length) return;
      await Promise.all(running.map((e) => e.done));
    }
  };

  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stateMachineArn(name) {
      const machine = machines.get(name);
      if (!machine) throw new Error(`no local state machine named ${name}`);
      return machine.arn;
    },
    executions(stateMachineName) {
      return [...executions.values()]
        .filter((e) => stateMachineName === undefined || e.stateMachineName === stateMachineName)
        .map(({ rawInput: _raw, abort: _abort, done: _done, ...execution }) => ({ ...execution }));
    },
    idle,
    async stop() {
      for (const record of executions.values()) {
        if (record.status === 'RUNNING') {
          record.status = 'ABORTED';
          record.abort();
        }
      }
      await Promise.all([...executions.values()].map((e) => e.done));
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** Records why an execution ended without output (an abort already set its status). */
function settleFailure(record: ExecutionRecord, error: unknown): void {
  if (record.status === 'ABORTED') return;
  const name = error instanceof Error ? error.name : '';
  if (name === 'ExecutionAbortedError') {
    record.status = 'ABORTED';
  } else if (name === 'ExecutionTimeoutError') {
    record.status = 'TIMED_OUT';
  } else {
    // ExecutionError wraps the state's error: its name is the ASL error (States.TaskFailed, a Fail state's Error…).
    const inner = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    record.status = 'FAILED';
    record.error = inner instanceof Error ? inner.name : 'Error';
    record.cause = inner instanceof Error ? inner.message : String(inner);
  }
}

/**
 * Reads and substitutes the ASL, binds every Task state to its local handler, and rewrites every Wait state into a
 * Task run by a local timer: the library can only override a Wait by state name with a FIXED duration, which cannot
 * scale `SecondsPath`/`TimestampPath` waits. The rewritten state keeps InputPath, OutputPath and Next/End, and returns
 * its input, which is exactly a Wait state's data flow.
 */
function prepare(spec: LocalStateMachine, projectRoot: string, scale: number) {
  let text: string;
  if (spec.definition !== undefined) {
    text = typeof spec.definition === 'string' ? spec.definition : JSON.stringify(spec.definition);
  } else if (spec.aslPath) {
    text = readFileSync(isAbsolute(spec.aslPath) ? spec.aslPath : resolve(projectRoot, spec.aslPath), 'utf8');
  } else {
    throw new Error(`state machine ${spec.name} needs an aslPath or a definition`);
  }
  const definition = JSON.parse(substitute(text, spec.substitutions ?? {}, spec.name)) as AslMachine;
  const handlers = spec.taskHandlers ?? {};
  const tasks = new Map<string, TaskBinding>();
  const waits = new Map<string, WaitSpec>();
  const retryOverrides: Record<string, number[]> = {};
  const seen = new Set<string>();
  visitStates(definition, (states, stateName, state) => {
    // Overrides are keyed by state name across nesting levels, so a name must mean one state.
    if ((state.Type === 'Task' || state.Type === 'Wait') && seen.has(stateName)) {
      throw new Error(`${spec.name}: state name "${stateName}" is used twice; local overrides need unique names`);
    }
    seen.add(stateName);
    if (Array.isArray(state.Retry)) {
      retryOverrides[stateName] = (state.Retry as { IntervalSeconds?: number }[]).map((retrier) =>
        Math.round((retrier.IntervalSeconds ?? 1) * 1000 * scale),
      );
    }
    if (state.Type === 'Task') tasks.set(stateName, bindTask(spec.name, stateName, state, handlers));
    if (state.Type === 'Wait') {
      const { Seconds, SecondsPath, Timestamp, TimestampPath, ...rest } = state;
      waits.set(stateName, { Seconds, SecondsPath, Timestamp, TimestampPath });
      states[stateName] = { ...rest, Type: 'Task', Resource: WAIT_RESOURCE, TimeoutSeconds: WAIT_TASK_TIMEOUT_SECONDS };
    }
  });
  return { name: spec.name, arn: localStateMachineArn(spec.name), definition, handlers, tasks, waits, retryOverrides };
}

/** Replaces `${Name}` placeholders like CloudFormation's DefinitionSubstitutions; an unknown one is an error. */
function substitute(text: string, substitutions: Record<string, string>, machineName: string): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_match, key: string) => {
    if (!Object.hasOwn(substitutions, key)) throw new Error(`${machineName}: no substitution for \${${key}}`);
    // Placeholders sit inside JSON strings, so the value is escaped as JSON string content.
    return JSON.stringify(substitutions[key]).slice(1, -1);
  });
}

function visitStates(
  machine: AslMachine,
  visit: (states: Record<string, AslState>, name: string, state: AslState) => void,
): void {
  for (const [name, state] of Object.entries(machine.States)) {
    visit(machine.States, name, state);
    if (Array.isArray(state.Branches)) for (const branch of state.Branches as AslMachine[]) visitStates(branch, visit);
    if (state.Iterator) visitStates(state.Iterator as AslMachine, visit);
    if (state.ItemProcessor) visitStates(state.ItemProcessor as AslMachine, visit);
  }
}

function bindTask(
  machineName: string,
  stateName: string,
  state: AslState,
  handlers: Record<string, TaskHandler>,
): TaskBinding {
  const resource = String(state.Resource);
  if (resource === LAMBDA_INVOKE) {
    const parameters = (state.Parameters ?? {}) as Record<string, unknown>;
    // A dynamic `FunctionName.$` is resolved when the state runs; a static one must have a handler now.
    if (typeof parameters.FunctionName !== 'string') return { kind: 'lambda-invoke' };
    const handler = findHandler(handlers, parameters.FunctionName);
    if (!handler) throw missingHandler(machineName, stateName, parameters.FunctionName);
    return { kind: 'lambda-invoke', functionName: functionName(parameters.FunctionName), handler };
  }
  const handler = LAMBDA_ARN.test(resource) ? findHandler(handlers, resource) : ownHandler(handlers, resource);
  if (!handler) throw missingHandler(machineName, stateName, resource);
  return { kind: 'handler', functionName: functionName(resource), handler };
}

function missingHandler(machineName: string, stateName: string, target: string): Error {
  return new Error(`${machineName}: no local task handler for ${target} (state "${stateName}")`);
}

function ownHandler(handlers: Record<string, TaskHandler>, key: string): TaskHandler | undefined {
  return Object.hasOwn(handlers, key) ? handlers[key] : undefined;
}

/** By exact key first, then by function name, so an ARN, a partial ARN and a bare name all find the same handler. */
function findHandler(handlers: Record<string, TaskHandler>, ref: string): TaskHandler | undefined {
  const exact = ownHandler(handlers, ref);
  if (exact) return exact;
  const wanted = functionName(ref);
  for (const [key, handler] of Object.entries(handlers)) if (functionName(key) === wanted) return handler;
  return undefined;
}

/** `arn:…:function:name[:qualifier]`, `account:function:name` or `name` → `name`. */
function functionName(ref: string): string {
  const at = ref.indexOf(':function:');
  return at >= 0 ? (ref.slice(at + ':function:'.length).split(':')[0] ?? ref) : ref;
}

interface ExecutionScope {
  context: { Execution: Record<string, unknown>; StateMachine: Record<string, unknown> };
  signal: AbortSignal;
  scale: number;
}

/** The per-execution `taskResourceLocalHandlers`: every Task (real or rewritten Wait) by state name. */
function localHandlers(machine: PreparedMachine, scope: ExecutionScope) {
  const local: Record<string, (input: Json) => Promise<Json>> = {};
  for (const [stateName, binding] of machine.tasks) {
    local[stateName] = (input) => runTask(machine, binding, input);
  }
  for (const [stateName, wait] of machine.waits) {
    local[stateName] = (input) => scaledWait(wait, input, scope);
  }
  return local;
}

async function runTask(machine: PreparedMachine, binding: TaskBinding, input: Json): Promise<Json> {
  if (binding.kind === 'handler') return invoke(binding.handler, input, binding.functionName);
  // The optimized integration invokes FunctionName with Payload and returns the Invoke API's response around it.
  const parameters = (input ?? {}) as { FunctionName?: unknown; Payload?: Json };
  const ref = String(parameters.FunctionName ?? '');
  const handler = binding.handler ?? findHandler(machine.handlers, ref);
  if (!handler) {
    throw lambdaError('Lambda.ResourceNotFoundException', `${machine.name}: no local task handler for ${ref}`);
  }
  const payload = await invoke(handler, parameters.Payload ?? {}, binding.functionName ?? functionName(ref));
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: { HttpHeaders: {}, HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: randomUUID() },
    StatusCode: 200,
  };
}

/** Calls a handler as Lambda would: a JSON copy in, a JSON copy out, a thrown error as the function's error. */
async function invoke(handler: TaskHandler, event: Json, name: string): Promise<Json> {
  let result: unknown;
  try {
    result = await handler(structuredClone(event), localLambdaContext(name));
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    // On AWS the state's Error is the function's errorType and its Cause the Lambda error JSON.
    throw lambdaError(
      err.name,
      JSON.stringify({ errorType: err.name, errorMessage: err.message, trace: err.stack?.split('\n') ?? [] }),
    );
  }
  return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as Json);
}

function lambdaError(name: string, cause: string): Error {
  const error = new Error(cause);
  error.name = name;
  return error;
}

/** Like States.Runtime on AWS: neither Retry nor Catch can handle it (the library reads these two getters). */
class StatesRuntimeError extends Error {
  override name = 'States.Runtime';
  get isRetryable() {
    return false;
  }
  get isCatchable() {
    return false;
  }
}

async function scaledWait(wait: WaitSpec, input: Json, scope: ExecutionScope): Promise<Json> {
  let ms: number;
  if (wait.Seconds !== undefined) {
    ms = Number(wait.Seconds) * 1000;
  } else if (wait.SecondsPath !== undefined) {
    const seconds = referencePath(String(wait.SecondsPath), input, scope.context);
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
      throw new StatesRuntimeError(`SecondsPath ${wait.SecondsPath} is not a non-negative integer: ${seconds}`);
    }
    ms = seconds * 1000;
  } else {
    const timestamp =
      wait.Timestamp !== undefined ? wait.Timestamp : referencePath(String(wait.TimestampPath), input, scope.context);
    const at = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
    if (Number.isNaN(at)) throw new StatesRuntimeError(`Wait timestamp is not an RFC 3339 timestamp: ${timestamp}`);
    ms = at - Date.now();
  }
  let remaining = Math.max(0, ms) * scope.scale;
  do {
    const chunk = Math.min(remaining, MAX_TIMER_MS);
    await sleep(chunk, undefined, { signal: scope.signal });
    remaining -= chunk;
  } while (remaining > 0);
  return input;
}

/**
 * Evaluates an ASL reference path (`$.a.b[0]`, `$['a b']`, `$$.Execution.Input.x`), the only JSONPath form the
 * Wait fields accept; wildcards and filters are not reference paths.
 */
function referencePath(path: string, input: Json, context: unknown): unknown {
  const root = path.startsWith('$$') ? context : input;
  let rest = path.startsWith('$$') ? path.slice(2) : path.slice(1);
  if (!path.startsWith('$')) throw new StatesRuntimeError(`invalid reference path ${path}`);
  let value: unknown = root;
  const segment = /^(?:\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;
  while (rest.length) {
    const match = segment.exec(rest);
    if (!match) throw new StatesRuntimeError(`invalid reference path ${path}`);
    const key = match[1] ?? match[3] ?? match[4];
    if (key !== undefined) {
      value =
        value && typeof value === 'object' && !Array.isArray(value)
          ? (value as Record<string, unknown>)[key]
          : undefined;
    } else {
      value = Array.isArray(value) ? value[Number(match[2])] : undefined;
    }
    if (value === undefined) throw new StatesRuntimeError(`reference path ${path} matches nothing in the input`);
    rest = rest.slice(match[0].length);
  }
  return value;
}

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

/** An error the protocol reports as `{ "__type": code, "message": … }` with HTTP 400. */
class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  operations: Record<string, (body: Record<string, unknown>) => unknown>,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const target = String(req.headers['x-amz-target'] ?? '');
  const [service, operation = ''] = target.split('.');
  const handler =
    service === 'AWSStepFunctions' && Object.hasOwn(operations, operation) ? operations[operation] : undefined;
  if (req.method !== 'POST' || !handler) {
    writeError(res, 400, 'UnknownOperationException', `Unknown operation: ${target || '(no X-Amz-Target)'}`);
    return;
  }
  let body: Record<string, unknown>;
  try {
    const text = Buffer.concat(chunks).toString('utf8');
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    writeError(res, 400, 'SerializationException', 'Request body is not valid JSON');
    return;
  }
  try {
    const result = handler(body);
    const payload = Buffer.from(JSON.stringify(result));
    res.writeHead(200, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': String(payload.length),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(payload);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    writeError(res, 400, error.code, error.message);
  }
}

function writeError(res: ServerResponse, status: number, code: string, message: string): void {
  // The SDK reads the error code from `__type` (a `namespace#` prefix is optional) and maps it to its exception class.
  const payload = Buffer.from(JSON.stringify({ __type: code, message }));
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': String(payload.length),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(payload);
}
