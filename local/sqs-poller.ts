import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { invokeLocally } from './lambda-context.ts';
import { type Poller, startPollLoop } from './poll-loop.ts';

/** A Lambda handler for SQS events, as the `notify` function exports it (partial batch responses allowed). */
export type SqsLambdaHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse | undefined> | Promise<void>;

/** Options of {@link pollQueue}. */
export interface PollQueueOptions {
  client: SQSClient;
  queueUrl: string;
  handler: SqsLambdaHandler;
  /** Messages per invocation (SQS returns at most 10 per receive). */
  batchSize?: number;
  /**
   * Long-poll wait of each ReceiveMessage. 0 by default: local-aws-sqs, unlike SQS, answers a long poll only when the
   * wait ends or MaxNumberOfMessages are there, so a wait would delay every batch by up to that long, and a message
   * whose visibility timeout is shorter than the wait is handed out twice in the same response.
   */
  waitTimeSeconds?: number;
  /** Pause after a receive that returned nothing (what the long poll does on AWS). */
  idleDelayMs?: number;
  /** Name the handler sees in its Lambda context. */
  functionName?: string;
  /** Handler failures and poller trouble (Lambda would log them); defaults to `console.error`. */
  onError?: (error: unknown) => void;
}

/**
 * Consumes a queue like a Lambda SQS event source mapping with `ReportBatchItemFailures`: receive a batch, invoke the
 * handler once with an `SQSEvent`, then delete every message the handler did not report in `batchItemFailures`. If the
 * handler throws (or reports an identifier that is not in the batch, which Lambda treats the same way) nothing is
 * deleted. Undeleted messages come back when their visibility timeout ends, and the queue's own redrive policy moves
 * them to the dead-letter queue after `maxReceiveCount` receives, exactly as on AWS. One batch at a time, in order.
 */
export function pollQueue(options: PollQueueOptions): Poller {
  const { client, queueUrl, handler } = options;
  const batchSize = options.batchSize ?? 10;
  const waitTimeSeconds = options.waitTimeSeconds ?? 0;
  const idleDelayMs = options.idleDelayMs ?? 100;
  const functionName = options.functionName ?? `local-${queueName(queueUrl)}-consumer`;
  const onError = options.onError ?? ((error: unknown) => console.error(`sqs poller ${queueUrl}:`, error));
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) throw new Error('batchSize must be 1..10');
  let source: { arn: string; region: string } | undefined;

  const deliver = async (messages: Message[], from: { arn: string; region: string }) => {
    const event: SQSEvent = { Records: messages.map((message) => toRecord(message, from)) };
    let response: Awaited<ReturnType<SqsLambdaHandler>>;
    try {
      response = await invokeLocally(functionName, handler, event);
    } catch (error) {
      onError(error);
      return; // the whole batch failed: every message reappears after its visibility timeout
    }
    const failed = failedIds(response, event.Records);
    if (failed === 'all') {
      onError(new Error('invalid batchItemFailures in the handler response: the whole batch is retried'));
      return;
    }
    const entries = event.Records.filter((record) => !failed.has(record.messageId)).map((record, index) => ({
      Id: String(index),
      ReceiptHandle: record.receiptHandle,
    }));
    if (!entries.length) return;
    const deleted = await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if (deleted.Failed?.length) onError(new Error(`DeleteMessageBatch failed: ${JSON.stringify(deleted.Failed)}`));
  };

  return startPollLoop(
    async () => {
      source ??= await describeSource(client, queueUrl);
      const received = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: batchSize,
          WaitTimeSeconds: waitTimeSeconds,
          // local-aws-sqs reads only the older `AttributeNames`; AWS reads both.
          AttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const messages = received.Messages ?? [];
      // Messages received while stopping are still handled: they are invisible now and would only come back late.
      if (messages.length) await deliver(messages, source);
      return messages.length;
    },
    { idleDelayMs, onError },
  );
}

/**
 * The message ids to leave on the queue (not delete), or `all` when the response is malformed: like Lambda, an
 * empty, non-string or unknown `itemIdentifier` fails the whole batch rather than guessing.
 */
function failedIds(response: Awaited<ReturnType<SqsLambdaHandler>>, records: SQSRecord[]): Set<string> | 'all' {
  const failures = response?.batchItemFailures ?? [];
  const known = new Set(records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id: unknown = failure?.itemIdentifier;
    if (typeof id !== 'string' || !known.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

async function describeSource(client: SQSClient, queueUrl: string): Promise<{ arn: string; region: string }> {
  const attributes = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = attributes.Attributes?.QueueArn;
  if (!arn) throw new Error(`no ARN for queue ${queueUrl}`);
  return { arn, region: await client.config.region() };
}

function queueName(queueUrl: string): string {
  return queueUrl.split('/').filter(Boolean).pop() ?? 'queue';
}

/** Turns an SDK message into the record shape Lambda delivers (lower-case keys, binary values in base64). */
function toRecord(message: Message, source: { arn: string; region: string }): SQSRecord {
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: (message.Attributes ?? {}) as unknown as SQSRecordAttributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: source.arn,
    awsRegion: source.region,
  };
}
