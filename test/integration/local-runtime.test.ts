import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, DynamoDBRecord, SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalStepFunctions, localFunctionArn, startLocalStepFunctions } from '../../local/stepfunctions.ts';
import { pollTableStream } from '../../local/stream-poller.ts';
import { createGatewayTable } from '../../local/tables.ts';
import { TEST_TABLE } from '../support/constants.ts';
import { eventually, type LocalWorkflows, startLocalWorkflows } from '../support/local-workflows.ts';

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const unique = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;
/** An ASL `${Name}` placeholder, as CDK's DefinitionSubstitutions and the local server replace it. */
const placeholder = (name: string) => `\${${name}}`;

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

  it('builds Lambda-shaped SQS records', async () => {
    const records: SQSRecord[] = [];
    workflows = await startLocalWorkflows({
      notifyHandler: async (event) => {
        records.push(...event.Records);
      },
    });
    await workflows.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: workflows.queueUrls.notifyQueueUrl,
        Entries: [
          {
            Id: 'a',
            MessageBody: '{"event":"evt_1"}',
            MessageAttributes: { kind: { DataType: 'String', StringValue: 'x' } },
          },
        ],
      }),
    );
    const [record] = await eventually(() => records.length > 0 && records, { what: 'a delivery' });
    expect(record).toMatchObject({
      body: '{"event":"evt_1"}',
      eventSource: 'aws:sqs',
      eventSourceARN: expect.stringMatching(/^arn:aws:sqs:us-east-1:000000000000:pay-gateway-notify-/),
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: expect.any(String) },
      messageAttributes: { kind: { dataType: 'String', stringValue: 'x' } },
    });
    expect(record?.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(record?.receiptHandle).toBeTruthy();
  });

  it('deletes nothing when the handler throws, so the whole batch comes back', async () => {
    const deliveries: string[] = [];
    let calls = 0;
    workflows = await startLocalWorkflows({
      notifyHandler: async (event) => {
        calls += 1;
        for (const record of event.Records)
          deliveries.push(`${record.body}#${record.attributes.ApproximateReceiveCount}`);
        if (calls === 1) throw new Error('the consumer crashed');
      },
    });
    const { sqs, queueUrls } = workflows;
    await sendBodies(sqs, queueUrls.notifyQueueUrl, ['a', 'b']);
    await eventually(() => deliveries.includes('a#2') && deliveries.includes('b#2'), {
      what: 'both messages to be redelivered',
    });
    await eventually(async () => (await messagesLeft(sqs, queueUrls.notifyQueueUrl)) === 0, { what: 'an empty queue' });
    expect(deliveries.sort()).toEqual(['a#1', 'a#2', 'b#1', 'b#2']);
  });

  it('moves a message that fails maxReceiveCount (5) times to the dead-letter queue', async () => {
    const receiveCounts: string[] = [];
    workflows = await startLocalWorkflows({
      notifyHandler: async (event) => ({
        batchItemFailures: event.Records.map((record) => {
          receiveCounts.push(record.attributes.ApproximateReceiveCount);
          return { itemIdentifier: record.messageId };
        }),
      }),
    });
    const { sqs, queueUrls } = workflows;
    await sendBodies(sqs, queueUrls.notifyQueueUrl, ['poison']);
    const dead = await eventually(
      async () => {
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrls.notifyDlqUrl, WaitTimeSeconds: 0, AttributeNames: ['All'] }),
        );
        return out.Messages?.length ? out.Messages : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'the message in the dead-letter queue' },
    );
    expect(dead.map((m: Message) => m.Body)).toEqual(['poison']);
    expect(dead[0]?.Attributes?.DeadLetterQueueSourceArn).toMatch(/:pay-gateway-notify-[0-9a-f]+$/);
    expect(receiveCounts).toEqual(['1', '2', '3', '4', '5']);
    expect(await messagesLeft(sqs, queueUrls.notifyQueueUrl)).toBe(0);
  });
});

/** Task → Choice → Wait → Succeed, with one `lambda:invoke` task and one plain-ARN task. */
const REVIEW_ASL = {
  Comment: 'Written in the test: checks an order, waits for the review window unless approved at once',
  StartAt: 'Check',
  States: {
    Check: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: placeholder('CheckFunctionArn'), 'Payload.$': '$' },
      // Reads the Lambda result inside the service's response envelope, as on AWS.
      ResultSelector: {
        'approved.$': '$.Payload.approved',
        'waitSeconds.$': '$.Payload.waitSeconds',
        'status.$': '$.StatusCode',
      },
      ResultPath: '$.check',
      Next: 'Approved?',
    },
    'Approved?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.check.approved', BooleanEquals: true, Next: 'Done' }],
      Default: 'Review window',
    },
    'Review window': { Type: 'Wait', SecondsPath: '$.check.waitSeconds', Next: 'Record' },
    Record: { Type: 'Task', Resource: placeholder('RecordFunctionArn'), ResultPath: '$.record', Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
};

/** The intrinsic functions the gateway's workflows may use, evaluated by the local interpreter. */
const INTRINSICS_ASL = {
  StartAt: 'Compute',
  States: {
    Compute: {
      Type: 'Pass',
      Parameters: {
        'random.$': 'States.MathRandom(1, 10)',
        'sum.$': 'States.MathAdd($.attempt, 1)',
        'second.$': 'States.ArrayGetItem($.schedule, 1)',
        'count.$': 'States.ArrayLength($.schedule)',
        'label.$': "States.Format('attempt {} of {}', $.attempt, 5)",
      },
      End: true,
    },
  },
};

/** Every kind of Wait, one nested in a Map: all of them must follow the time scale. */
const TIMERS_ASL = {
  StartAt: 'Fixed',
  States: {
    Fixed: { Type: 'Wait', Seconds: 1000, Next: 'Until' },
    Until: { Type: 'Wait', TimestampPath: '$.until', Next: 'Past' },
    // A timestamp already past does not wait at all.
    Past: { Type: 'Wait', Timestamp: '2020-01-01T00:00:00Z', Next: 'Each' },
    Each: {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemProcessor: {
        StartAt: 'Per item',
        States: { 'Per item': { Type: 'Wait', Seconds: 1000, End: true } },
      },
      ResultPath: '$.items',
      End: true,
    },
  },
};

describe('local Step Functions', () => {
  const checkArn = localFunctionArn('check-order');
  const recordArn = localFunctionArn('record-review');
  const reviewName = unique('review');
  const intrinsicsName = unique('intrinsics');
  const timersName = unique('timers');
  const checkEvents: unknown[] = [];
  const recordEvents: unknown[] = [];
  let server: LocalStepFunctions;
  let sfn: SFNClient;

  beforeAll(async () => {
    server = await startLocalStepFunctions({
      // 2000 s of review window take 1 s; unscaled they would outlast the test by half an hour.
      waitTimeScale: 0.0005,
      stateMachines: [
        {
          name: reviewName,
          definition: REVIEW_ASL,
          substitutions: { CheckFunctionArn: checkArn, RecordFunctionArn: recordArn },
          taskHandlers: {
            [checkArn]: async (event) => {
              checkEvents.push(event);
              const order = event as { order: string; fail?: boolean };
              if (order.fail) throw new TypeError(`cannot check ${order.order}`);
              return { approved: order.order.startsWith('vip'), waitSeconds: 2000 };
            },
            // A bare function name finds the handler too.
            'record-review': async (event, context: Context) => {
              recordEvents.push(event);
              return { by: context.functionName };
            },
          },
        },
        { name: intrinsicsName, definition: INTRINSICS_ASL },
        { name: timersName, definition: TIMERS_ASL },
      ],
    });
    sfn = new SFNClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  });
  afterAll(async () => {
    sfn?.destroy();
    await server?.stop();
  });

  const start = (name: string, input: unknown, machine = reviewName) =>
    sfn.send(
      new StartExecutionCommand({
        stateMachineArn: server.stateMachineArn(machine),
        name,
        input: JSON.stringify(input),
      }),
    );
  const describeExecution = (executionArn: string) => sfn.send(new DescribeExecutionCommand({ executionArn }));
  const finished = (executionArn: string) =>
    eventually(
      async () => {
        const execution = await describeExecution(executionArn);
        return execution.status !== 'RUNNING' && execution;
      },
      { what: `${executionArn} to finish` },
    );

  it('runs Task → Choice → Wait → Task → Succeed with the local handlers and a scaled wait', async () => {
    const name = unique('order');
    const began = Date.now();
    const { executionArn, startDate } = await start(name, { order: 'ord_1' });
    expect(executionArn).toBe(`arn:aws:states:us-east-1:000000000000:execution:${reviewName}:${name}`);
    expect(startDate).toBeInstanceOf(Date);
    const execution = await finished(executionArn ?? '');
    const elapsed = Date.now() - began;

    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.stopDate).toBeInstanceOf(Date);
    // The lambda:invoke result arrives wrapped as { Payload, StatusCode, ... }, so the ResultSelector paths resolve.
    expect(JSON.parse(execution.output ?? 'null')).toEqual({
      order: 'ord_1',
      check: { approved: false, waitSeconds: 2000, status: 200 },
      record: { by: 'record-review' },
    });
    // The handler got the Payload (the state input), not the integration's parameters.
    expect(checkEvents).toContainEqual({ order: 'ord_1' });
    expect(recordEvents).toContainEqual({ order: 'ord_1', check: { approved: false, waitSeconds: 2000, status: 200 } });
    // 2000 s × 0.0005 = 1 s.
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(8000);
    const local = server.executions().find((e) => e.executionArn === executionArn);
    // Check, Approved?, Review window, Record, Done.
    expect(local).toMatchObject({ name, status: 'SUCCEEDED', transitions: 5 });
  });

  it('takes the Choice branch that skips the wait', async () => {
    const { executionArn } = await start(unique('order'), { order: 'vip_1' });
    const execution = await finished(executionArn ?? '');
    expect(JSON.parse(execution.output ?? 'null')).toEqual({
      order: 'vip_1',
      check: { approved: true, waitSeconds: 2000, status: 200 },
    });
    expect(server.executions().find((e) => e.executionArn === executionArn)?.transitions).toBe(3);
  });

  it('returns the same execution for a duplicate start while it runs, and ExecutionAlreadyExists otherwise', async () => {
    const name = unique('bucket');
    const first = await start(name, { order: 'ord_2' });
    const again = await start(name, { order: 'ord_2' });
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate?.getTime()).toBe(first.startDate?.getTime());

    const differentInput = start(name, { order: 'ord_3' });
    await expect(differentInput).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await expect(differentInput).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
      $metadata: { httpStatusCode: 400 },
    });

    await finished(first.executionArn ?? '');
    // Standard workflows never reuse a name, not even once the execution has ended.
    await expect(start(name, { order: 'ord_2' })).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    expect(server.executions().filter((e) => e.name === name)).toHaveLength(1);
  });

  it('reports a task failure with the function error type and the Lambda error as cause', async () => {
    const { executionArn } = await start(unique('order'), { order: 'ord_4', fail: true });
    const execution = await finished(executionArn ?? '');
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('TypeError');
    expect(JSON.parse(execution.cause ?? '{}')).toMatchObject({
      errorType: 'TypeError',
      errorMessage: 'cannot check ord_4',
    });
    expect(execution.output).toBeUndefined();
  });

  it('lists executions of a state machine, newest first, filtered by status', async () => {
    await server.idle();
    const all = await sfn.send(new ListExecutionsCommand({ stateMachineArn: server.stateMachineArn(reviewName) }));
    const local = server.executions(reviewName);
    expect(all.executions?.map((e) => e.executionArn)).toEqual(local.map((e) => e.executionArn).reverse());
    const failed = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: server.stateMachineArn(reviewName), statusFilter: 'FAILED' }),
    );
    expect(failed.executions?.map((e) => e.status)).toEqual(['FAILED']);
    expect(local.every((e) => e.status !== 'RUNNING')).toBe(true);
  });

  it('scales Seconds, Timestamp, TimestampPath and nested waits alike', async () => {
    const until = new Date(Date.now() + 1000 * 1000).toISOString();
    const began = Date.now();
    const { executionArn } = await start(unique('timers'), { until, items: [1, 2, 3] }, timersName);
    const execution = await finished(executionArn ?? '');
    const elapsed = Date.now() - began;
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output ?? 'null')).toEqual({ until, items: [1, 2, 3] });
    // 1000 s + ~1000 s + 0 + one 1000 s wait per item in parallel, × 0.0005: about 1.5 s instead of 50 minutes.
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(8000);
  });

  it('evaluates States.MathRandom, MathAdd, ArrayGetItem, ArrayLength and Format', async () => {
    const { executionArn } = await start(unique('intrinsics'), { attempt: 2, schedule: [1, 5, 30] }, intrinsicsName);
    const output = JSON.parse((await finished(executionArn ?? '')).output ?? 'null') as Record<string, unknown>;
    expect(output).toMatchObject({ sum: 3, second: 5, count: 3, label: 'attempt 2 of 5' });
    expect(output.random).toSatisfy((n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 10);
  });

  it('answers DescribeExecution of an unknown execution with ExecutionDoesNotExist', async () => {
    await expect(describeExecution(`${server.stateMachineArn(reviewName)}:nope`)).rejects.toBeInstanceOf(
      ExecutionDoesNotExist,
    );
  });

  it('answers an unknown operation with 400 UnknownOperationException', async () => {
    const response = await fetch(server.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.SendTaskSuccess' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('refuses to start with a Task state that has no local handler', async () => {
    await expect(
      startLocalStepFunctions({
        stateMachines: [
          {
            name: 'unbound',
            definition: REVIEW_ASL,
            substitutions: { CheckFunctionArn: checkArn, RecordFunctionArn: recordArn },
          },
        ],
      }),
    ).rejects.toThrow(/no local task handler for .*check-order/);
  });
});

describe('DynamoDB stream poller', () => {
  const dynamo = new DynamoDBClient({
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: CREDENTIALS,
  });
  afterAll(() => dynamo.destroy());

  const put = (tableName: string, pk: string, extra: Record<string, { S: string } | { N: string }> = {}) =>
    dynamo.send(new PutItemCommand({ TableName: tableName, Item: { PK: { S: pk }, SK: { S: 'ITEM' }, ...extra } }));

  it('delivers an inserted item as a Lambda INSERT record with its NEW_IMAGE', async () => {
    const pk = unique('STREAM#new-image');
    const records: DynamoDBRecord[] = [];
    const poller = await pollTableStream({
      endpoint: inject('dynamoEndpoint'),
      tableName: TEST_TABLE,
      // Other test files write to the same table at the same time.
      filter: (record) => record.dynamodb?.Keys?.PK?.S === pk,
      handler: async (event) => {
        records.push(...event.Records);
      },
    });
    try {
      await put(TEST_TABLE, pk, { amount: { N: '1250' }, status: { S: 'PENDING' } });
      const [record] = await eventually(() => records.length > 0 && records, { what: 'the stream record' });
      expect(record).toMatchObject({
        eventName: 'INSERT',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        eventSourceARN: expect.stringContaining(`table/${TEST_TABLE}/stream/`),
        dynamodb: {
          Keys: { PK: { S: pk }, SK: { S: 'ITEM' } },
          NewImage: { PK: { S: pk }, SK: { S: 'ITEM' }, amount: { N: '1250' }, status: { S: 'PENDING' } },
          StreamViewType: 'NEW_IMAGE',
          SequenceNumber: expect.any(String),
        },
      });
      expect(record?.dynamodb?.OldImage).toBeUndefined();
    } finally {
      await poller.stop();
    }
  });

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

  it('retries from the first record reported in batchItemFailures', async () => {
    // A table of its own, read from TRIM_HORIZON, so the three writes arrive as one batch.
    const tableName = unique('stream-partial');
    await createGatewayTable(dynamo, tableName);
    await put(tableName, 'A');
    await put(tableName, 'B');
    await put(tableName, 'C');
    const calls: string[][] = [];
    const poller = await pollTableStream({
      endpoint: inject('dynamoEndpoint'),
      tableName,
      startingPosition: 'TRIM_HORIZON',
      retryDelayMs: 50,
      onError: () => undefined,
      handler: async (event) => {
        calls.push(event.Records.map((r) => r.dynamodb?.Keys?.PK?.S ?? '?'));
        const b = event.Records.find((r) => r.dynamodb?.Keys?.PK?.S === 'B');
        // B fails once; A before it must not be delivered again.
        if (calls.length === 1 && b)
          return { batchItemFailures: [{ itemIdentifier: b.dynamodb?.SequenceNumber ?? '' }] };
        return { batchItemFailures: [] };
      },
    });
    try {
      await eventually(() => calls.length >= 2, { what: 'the retry' });
      await sleep(300);
    } finally {
      await poller.stop();
    }
    expect(calls).toEqual([
      ['A', 'B', 'C'],
      ['B', 'C'],
    ]);
  });
});
