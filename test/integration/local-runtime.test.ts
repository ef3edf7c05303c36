import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { STATE_MACHINES } from '#adapters/queue-definitions.ts';
import { LocalStepFunctions, localStateMachineArn } from '../../local/local-workflows.ts';
import { startPollLoop } from '../../local/poll-loop.ts';
import { pollTableStream } from '../../local/stream-poller.ts';
import { TEST_TABLE } from '../support/constants.ts';
import { eventually, type LocalWorkflows, startLocalWorkflows } from '../support/local-workflows.ts';

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const unique = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;

describe('in-process Step Functions', () => {
  const calls: { fn: string; event: unknown }[] = [];
  const record = (fn: string, event: unknown, context: Context) => {
    calls.push({ fn, event });
    expect(context.functionName).toBe(fn);
  };
  // The gateway's own ASL files, with handlers standing in for the functions CDK substitutes.
  const sfn = new LocalStepFunctions(
    [
      {
        ...STATE_MACHINES.notifyRetry,
        tasks: {
          NotifyAttemptFunctionArn: async (event, context) => {
            record('NotifyAttempt', event, context);
            return { delivered: true };
          },
          NotifyFailedFunctionArn: async () => ({ failed: true }),
        },
      },
      {
        ...STATE_MACHINES.orderExpiry,
        tasks: {
          ExpireBucketFunctionArn: async (event, context) => {
            record('ExpireBucket', event, context);
            if (String((event as { bucket: string }).bucket).startsWith('broken'))
              throw new TypeError('no such bucket');
            return { done: true };
          },
        },
      },
    ],
    0.001,
  );
  const expiry = localStateMachineArn(STATE_MACHINES.orderExpiry.name);
  const retry = localStateMachineArn(STATE_MACHINES.notifyRetry.name);
  const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
  const execution = (name: string) => sfn.executions().find((e) => e.name === name);
  afterAll(() => sfn.stop());

  it('waits a scaled TimestampPath, then invokes the task handler with the Payload', async () => {
    const name = unique('expiry');
    const began = Date.now();
    expect(await sfn.start(expiry, name, { bucket: name, wakeAt: inSeconds(1000), cursor: '' })).toBe('started');
    await eventually(() => execution(name)?.status === 'SUCCEEDED', { what: 'the execution to succeed' });
    // 1000 s × 0.001 = 1 s.
    expect(Date.now() - began).toBeGreaterThanOrEqual(900);
    expect(calls).toContainEqual({ fn: 'ExpireBucket', event: { bucket: name, cursor: '' } });
  });

  it('waits a scaled SecondsPath drawn by the state machine', async () => {
    const eventId = unique('evt');
    const began = Date.now();
    await sfn.start(retry, eventId, { eventId, index: 0, count: 1, mins: [1000], maxs: [1001] });
    await eventually(() => execution(eventId)?.status === 'SUCCEEDED', { what: 'the execution to succeed' });
    expect(Date.now() - began).toBeGreaterThanOrEqual(900);
    expect(calls).toContainEqual({ fn: 'NotifyAttempt', event: { eventId } });
    await sfn.idle();
    // ChooseDelay → WaitBeforeRetry → Retry → Delivered? → Delivered.
    expect(execution(eventId)?.transitions).toBe(5);
  });

  it('treats a repeated name like Step Functions: the same start while running, otherwise exists', async () => {
    const name = unique('expiry');
    const input = { bucket: name, wakeAt: inSeconds(2000), cursor: '' };
    expect(await sfn.start(expiry, name, input)).toBe('started');
    expect(await sfn.start(expiry, name, input)).toBe('started');
    expect(await sfn.start(expiry, name, { ...input, cursor: 'other' })).toBe('exists');
    await sfn.idle();
    expect(await sfn.start(expiry, name, input)).toBe('exists');
    expect(sfn.executions(STATE_MACHINES.orderExpiry.name).filter((e) => e.name === name)).toMatchObject([
      { status: 'SUCCEEDED' },
    ]);
  });

  it('fails the execution with the handler error once the scaled retries are spent', async () => {
    const name = unique('broken');
    await sfn.start(expiry, name, { bucket: name, wakeAt: inSeconds(0), cursor: '' });
    const failed = await eventually(() => execution(name)?.status === 'FAILED' && execution(name), {
      what: 'the execution to fail',
    });
    expect(failed).toMatchObject({ error: 'TypeError', cause: 'no such bucket' });
    // The first attempt and the six retries of the ASL's Retry (5 s apart on AWS, 5 ms here).
    expect(calls.filter((c) => (c.event as { bucket?: string }).bucket === name)).toHaveLength(7);
  });
});

describe('poll loop', () => {
  it('pauses after an empty round and reports a failed round without stopping', async () => {
    const errors: unknown[] = [];
    let rounds = 0;
    const poller = startPollLoop(
      async () => {
        rounds += 1;
        if (rounds === 2) throw new Error('receive failed');
        return 0;
      },
      { idleDelayMs: 20, onError: (error) => errors.push(error) },
    );
    await eventually(() => rounds >= 4, { what: 'rounds after the failure' });
    await poller.stop();
    expect(errors).toEqual([new Error('receive failed')]);
  });

  it('lets the round in hand finish when stopped, then runs onStopped', async () => {
    const events: string[] = [];
    const poller = startPollLoop(
      async ({ pause }) => {
        events.push('round');
        await sleep(100); // a handler call, which stopping does not cut short…
        await pause(10_000); // …unlike a pause
        events.push('round done');
        return 1;
      },
      { idleDelayMs: 0, onError: () => undefined, onStopped: () => events.push('stopped') },
    );
    await eventually(() => events.includes('round'), { what: 'the first round to start' });
    await poller.stop();
    expect(events).toEqual(['round', 'round done', 'stopped']);
  });
});

async function sendBodies(sqs: SQSClient, queueUrl: string, bodies: string[]): Promise<void> {
  const sent = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })),
    }),
  );
  expect(sent.Failed ?? []).toEqual([]);
}

async function messagesLeft(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

describe('SQS poller', () => {
  let workflows: LocalWorkflows | undefined;
  afterEach(async () => {
    await workflows?.stop();
    workflows = undefined;
  });

  it('deletes only the records not reported as failed and redelivers the failed one after the visibility timeout', async () => {
    const deliveries: { body: string; receiveCount: string; batch: number }[] = [];
    let batches = 0;
    let context: Context | undefined;
    workflows = await startLocalWorkflows({
      notifyHandler: async (event, ctx) => {
        batches += 1;
        context = ctx;
        const failures: { itemIdentifier: string }[] = [];
        for (const record of event.Records) {
          deliveries.push({
            body: record.body,
            receiveCount: record.attributes.ApproximateReceiveCount,
            batch: batches,
          });
          // The "flaky" message fails on its first delivery only.
          if (record.body === 'flaky' && record.attributes.ApproximateReceiveCount === '1') {
            failures.push({ itemIdentifier: record.messageId });
          }
        }
        return { batchItemFailures: failures };
      },
    });
    const { sqs, queueUrls } = workflows;
    await sendBodies(sqs, queueUrls.notifyQueueUrl, ['first', 'flaky', 'third']);

    await eventually(() => deliveries.some((d) => d.body === 'flaky' && d.receiveCount === '2'), {
      what: 'the flaky message to be redelivered',
    });
    await eventually(async () => (await messagesLeft(sqs, queueUrls.notifyQueueUrl)) === 0, { what: 'an empty queue' });
    // One more visibility timeout: nothing that was acknowledged comes back.
    await sleep(1500);
    const bodies = deliveries.map((d) => `${d.body}#${d.receiveCount}`).sort();
    expect(bodies).toEqual(['first#1', 'flaky#1', 'flaky#2', 'third#1']);
    expect(context?.functionName).toMatch(/pay-gateway-notify/);
    expect(context?.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });
});

describe('DynamoDB stream poller', () => {
  const dynamo = new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: CREDENTIALS,
  });
  afterAll(() => dynamo.destroy());

  const put = (tableName: string, pk: string) =>
    dynamo.send(new PutItemCommand({ TableName: tableName, Item: { PK: { S: pk }, SK: { S: 'ITEM' } } }));

  it('re-delivers the same batch after the handler throws, without skipping or reordering', async () => {
    const pk = unique('STREAM#retry');
    const calls: string[][] = [];
    const poller = await pollTableStream({
      endpoint: inject('dynamoEndpoint'),
      tableName: TEST_TABLE,
      retryDelayMs: 50,
      onError: () => undefined,
      filter: (record) => record.dynamodb?.Keys?.PK?.S?.startsWith(pk) === true,
      handler: async (event) => {
        calls.push(event.Records.map((r) => `${r.dynamodb?.Keys?.PK?.S}@${r.dynamodb?.SequenceNumber}`));
        if (calls.length <= 2) throw new Error('relay down');
      },
    });
    try {
      await put(TEST_TABLE, `${pk}#1`);
      await eventually(() => calls.length >= 3, { what: 'the third delivery' });
      await put(TEST_TABLE, `${pk}#2`);
      await eventually(() => calls.some((batch) => batch.some((r) => r.startsWith(`${pk}#2@`))), {
        what: 'the second item',
      });
    } finally {
      await poller.stop();
    }
    // The failed batch came back identical (same sequence number) until it succeeded, then the stream moved on.
    expect(calls[0]).toHaveLength(1);
    expect(calls[1]).toEqual(calls[0]);
    expect(calls[2]).toEqual(calls[0]);
    expect(calls.flat().filter((r) => r.startsWith(`${pk}#1@`))).toHaveLength(3);
    expect(calls.flat().filter((r) => r.startsWith(`${pk}#2@`))).toHaveLength(1);
  });
});
