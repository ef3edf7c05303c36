import { randomUUID } from 'node:crypto';
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
 * A plausible Lambda context for a locally invoked function (the local gateway, pollers and workflows): handlers and
 * Powertools read the names and the remaining time from it.
 */
export function localLambdaContext(functionName: string, timeoutMs = functionTimeoutMs()): Context {
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
