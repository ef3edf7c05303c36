import { randomUUID } from 'node:crypto';
import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID } from './sqs.ts';

/**
 * A local function's time limit: API Gateway's 30 s by default; `LOCAL_FUNCTION_TIMEOUT_MS` lifts it where speed is
 * not the point (the tests, on machines shared with other work).
 */
function functionTimeoutMs(): number {
  const configured = Number(process.env.LOCAL_FUNCTION_TIMEOUT_MS);
  return Number.isSafeInteger(configured) && configured > 0 ? configured : 30_000;
}

/**
 * A plausible Lambda context for a locally invoked function: handlers and Powertools read the names and the
 * remaining time from it.
 */
function localLambdaContext(functionName: string, timeoutMs = functionTimeoutMs()): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Tells Powertools that invocations run concurrently (on Lambda it holds the environment's concurrency). */
const CONCURRENCY_VARIABLE = 'AWS_LAMBDA_MAX_CONCURRENCY';

/**
 * Lets this process run functions the way Lambda's multi-concurrency runtime (Lambda Managed Instances) does: an
 * `AsyncLocalStorage`-backed `InvokeStore`, each invocation run in its own scope, and `AWS_LAMBDA_MAX_CONCURRENCY`,
 * which tell Powertools (logger context and keys, metrics, batch state) to keep each invocation's state apart.
 * Locally every function shares one process and runs concurrently — the gateway's requests, the stream and queue
 * consumers, the state machines' tasks — and without this they shared one logger context (a request logged under the
 * stream consumer's name).
 *
 * The store must exist before the process's first AWS SDK request (the SDK would create the process-wide store
 * itself, a single-invocation one), so it is created as this module loads (every local process imports it with the
 * local stack); the variable is set at the first local invocation, once the store exists, so Powertools never looks
 * for a store that is not there. A child process must not inherit the variable: see {@link childProcessEnv}.
 */
async function createInvokeStore(): Promise<InvokeStoreBase> {
  const store = await InvokeStore.getInstanceAsync(true);
  // A single-invocation store keeps the last context after `run`; the multi-invocation one forgets it on return.
  store.run({}, () => undefined);
  if (store.hasContext()) throw new Error('the AWS SDK created a single-invocation InvokeStore before the local stack');
  return store;
}

const invokeStore = createInvokeStore();
// A failure surfaces at the first local invocation, which awaits the same promise.
invokeStore.catch(() => undefined);

/**
 * The environment for a child process of a local process: without `AWS_LAMBDA_MAX_CONCURRENCY`, which would make
 * Powertools in the child look for an invocation store before the child has one (and fail as it loads).
 */
export function childProcessEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { [CONCURRENCY_VARIABLE]: _concurrency, ...rest } = env;
  return rest;
}

/**
 * Invokes a function's handler locally as Lambda would: with a fresh Lambda context named `functionName` and in its
 * own invocation scope (see {@link createInvokeStore}), so what it logs carries its own name and request id
 * whatever else runs at the same time. The local gateway, the queue and stream pollers and the state machines' tasks
 * all invoke through here.
 */
export async function invokeLocally<E, R>(
  functionName: string,
  handler: (event: E, context: Context) => R,
  event: E,
): Promise<Awaited<R>> {
  const store = await invokeStore;
  process.env[CONCURRENCY_VARIABLE] ??= '64';
  const context = localLambdaContext(functionName);
  const scope = { [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId };
  return store.run(scope, async (): Promise<Awaited<R>> => await handler(event, context));
}
