/**
 * The gateway process of the fault-injection suite, bundled by `gateway-bundle.ts` and started (and SIGKILLed) by
 * `gateway-child.ts`: the local API on
 * `FAULT_PORT`, the outbox relay on the table's stream (from its start, so a restarted process re-reads what its
 * predecessor never finished), the notify queue consumer and the state machines — the same handlers the CDK stack
 * deploys, wired like `npm start` wires them, against the environment the test hands in.
 *
 * Faults are injected at adapter boundaries only, never in product code: a middleware on this process's shared
 * DynamoDB client (every handler's table calls go through it), a wrapper around the relay handler, and one around the
 * global `fetch` the channel clients call. An armed fault fires once, writes its line to stderr synchronously, and
 * SIGKILLs this process.
 *
 * On request it also runs the minute timers' task (`expireBucket`, paged like the state machine pages it) with a
 * clock ahead, so a test can crash the process that is expiring a bucket without waiting minutes for the timer.
 */
import { writeSync } from 'node:fs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { getContainer } from '#adapters/container.ts';
import { STATE_MACHINES } from '#adapters/queue-definitions.ts';
import { setHostOverrides, sharedDocumentClient } from '#adapters/wiring/host.ts';
import { handler as expireBucket } from '../../../functions/expire-bucket.ts';
import { handler as notify } from '../../../functions/notify.ts';
import { handler as notifyAttempt } from '../../../functions/notify-attempt.ts';
import { handler as notifyFailed } from '../../../functions/notify-failed.ts';
import { handler as outboxRelay } from '../../../functions/outbox-relay.ts';
import { type LambdaHandler, LocalGateway } from '../../../local/gateway.ts';
import { LocalStepFunctions } from '../../../local/local-workflows.ts';
import { pollQueue } from '../../../local/sqs-poller.ts';
import { pollTableStream, type StreamLambdaHandler } from '../../../local/stream-poller.ts';
import { TEST_WAIT_TIME_SCALE } from '../../support/constants.ts';
import {
  channelCallMatches,
  commitMatches,
  type Fault,
  type FromGateway,
  faultLine,
  relayMatches,
  type ToGateway,
} from './faults.ts';
import { expireWholeBucket } from './timers.ts';

const armed: Fault[] = [];

/** Fires the first armed fault `matches` accepts: its line to stderr, then SIGKILL. */
function crashIf(at: Fault['at'], matches: (fault: Fault) => boolean): void {
  const fault = armed.find((candidate) => candidate.at === at && matches(candidate));
  if (!fault) return;
  writeSync(2, `${faultLine(fault)}\n`);
  process.kill(process.pid, 'SIGKILL');
}

/** Poller and handler failures go to stderr, which the test shows when a case fails. */
function report(error: unknown): void {
  console.error(String(error));
}

function send(message: FromGateway): void {
  process.send?.(message);
}

function setting(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

// Every handler in this process shares this client: the middleware sees each commit, whichever function made it.
sharedDocumentClient().middlewareStack.add(
  (next, context) => async (args) => {
    const isCommit =
      context.commandName === 'TransactWriteCommand' || context.commandName === 'TransactWriteItemsCommand';
    if (isCommit) crashIf('before-commit', (fault) => commitMatches(fault, args.input));
    const output = await next(args);
    if (isCommit) crashIf('after-commit', (fault) => commitMatches(fault, args.input));
    return output;
  },
  { step: 'initialize', name: 'faultInjection' },
);

// The channel clients call the global fetch when they are built (on first use, after this ran): a channel's answer
// reaches the process here first.
const channelFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const response = await channelFetch(input, init);
  const url = input instanceof Request ? input.url : String(input);
  const body = typeof init?.body === 'string' ? init.body : '';
  crashIf('channel-answered', (fault) => channelCallMatches(fault, { method: init?.method ?? 'GET', url, body }));
  return response;
};

/** The minute timers' task over `buckets`, as their state machine runs it once the minute passed (clock ahead). */
async function expire(buckets: string[], aheadMs: number): Promise<void> {
  const deps = { ...getContainer(), clock: () => new Date(Date.now() + aheadMs) };
  const counts = [];
  for (const bucket of buckets) counts.push(await expireWholeBucket(deps, bucket));
  send({ type: 'expired', counts });
}

const relay: StreamLambdaHandler = async (event, context) => {
  crashIf('relay-before', (fault) => relayMatches(fault, event.Records));
  const response = await outboxRelay(event, context);
  crashIf('relay-after', (fault) => relayMatches(fault, event.Records));
  return response;
};

/**
 * Runs the gateway process: the API (with the bundled HTTP handlers, by entry), the stream and queue consumers and
 * the state machines; tells the test it is ready, then serves until killed.
 */
export async function runGatewayProcess(handlers: Readonly<Record<string, LambdaHandler>>): Promise<void> {
  process.on('message', (message: ToGateway) => {
    if (message.type === 'arm') {
      armed.push(message.fault);
      send({ type: 'armed' });
    }
    if (message.type === 'expire') {
      expire(message.buckets, message.aheadMs).catch((error) => send({ type: 'expire-failed', error: String(error) }));
    }
  });

  const sfn = new LocalStepFunctions(
    [
      {
        ...STATE_MACHINES.notifyRetry,
        tasks: { NotifyAttemptFunctionArn: notifyAttempt, NotifyFailedFunctionArn: notifyFailed },
      },
      { ...STATE_MACHINES.orderExpiry, tasks: { ExpireBucketFunctionArn: expireBucket } },
    ],
    TEST_WAIT_TIME_SCALE,
  );
  setHostOverrides({ workflows: sfn.workflows });
  const gateway = new LocalGateway(setting('FAULT_PROJECT_ROOT'), handlers);
  const apiBase = await gateway.listen(Number(setting('FAULT_PORT')));
  pollQueue({
    client: new SQSClient({}),
    queueUrl: setting('NOTIFY_QUEUE_URL'),
    handler: notify,
    onError: report,
  });
  await pollTableStream({
    endpoint: setting('AWS_ENDPOINT_URL_DYNAMODB'),
    tableName: setting('TABLE_NAME'),
    handler: relay,
    startingPosition: 'TRIM_HORIZON',
    onError: report,
  });
  send({ type: 'ready', apiBase });
}
