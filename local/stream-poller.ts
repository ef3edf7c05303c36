/**
 * The local stand-in for a DynamoDB Streams event source mapping (shards, iterators, batches, retries, partial batch
 * responses): long because it reproduces the delivery semantics the outbox relay relies on.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type Shard,
  type ShardIteratorType,
  type AttributeValue as StreamAttributeValue,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type {
  AttributeValue,
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  StreamRecord,
} from 'aws-lambda';
import { invokeLocally } from './lambda-context.ts';
import { type PollControl, type Poller, startPollLoop } from './poll-loop.ts';
import { LOCAL_REGION } from './sqs.ts';

/** A Lambda handler for DynamoDB stream events (partial batch responses allowed). */
export type StreamLambdaHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | undefined> | Promise<void>;

/** Options of {@link pollTableStream}. */
export interface PollTableStreamOptions {
  /** DynamoDB Local's endpoint (it serves the Streams API on the same port). */
  endpoint: string;
  tableName: string;
  handler: StreamLambdaHandler;
  /** Pause between polls that found nothing new. */
  intervalMs?: number;
  /** Records per invocation (Lambda's default for streams is 100). */
  batchSize?: number;
  /**
   * Where to begin in the shards open at start: `LATEST` (default) delivers only what is written after the poller is
   * positioned, which is what tests sharing one table need (TRIM_HORIZON would replay every other file's writes) and
   * what `npm start` needs too (its in-memory table is created empty just before). `TRIM_HORIZON` replays the retained
   * stream, as a new event source mapping on an existing AWS table should. Shards that appear later are always read
   * from their start: everything in them is new.
   */
  startingPosition?: 'LATEST' | 'TRIM_HORIZON';
  /** Pause before a failed batch is retried. */
  retryDelayMs?: number;
  /**
   * Like the mapping's `retryAttempts` with an on-failure destination: a batch still failing after this many retries
   * is handed to `record` (Lambda's `DDBStreamBatchInfo` record, what SQS receives on AWS) and the shard moves past it.
   * Without it, or while `record` itself fails, a batch is retried until it succeeds (Lambda's default).
   */
  onFailure?: { retryAttempts: number; record(failure: StreamBatchFailureRecord): Promise<void> };
  /** Like an event source mapping's FilterCriteria: records it rejects are skipped (and count as processed). */
  filter?: (record: DynamoDBRecord) => boolean;
  /** Name the handler sees in its Lambda context. */
  functionName?: string;
  /** Handler failures and poller trouble (Lambda would log them); defaults to `console.error`. */
  onError?: (error: unknown) => void;
}

/** What a Lambda event source mapping sends its on-failure destination for a stream batch (the fields used here). */
export interface StreamBatchFailureRecord {
  requestContext: { condition: 'RetryAttemptsExhausted'; functionArn: string; approximateInvokeCount: number };
  version: '1.0';
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    batchSize: number;
    streamArn: string;
  };
}

interface ShardState {
  id: string;
  parentId?: string;
  /** Where a fresh iterator must start: used at first read and after an iterator expired. */
  position: { type: ShardIteratorType; sequenceNumber?: string };
  iterator?: string;
  done: boolean;
}

/**
 * Reads a table's stream like a Lambda DynamoDB Streams event source mapping: DescribeTable → LatestStreamArn,
 * DescribeStream → shards (re-described every second, so new shards are picked up, a child only after its parent is
 * finished), GetShardIterator, then a GetRecords loop that invokes the handler with Lambda-shaped records. Delivery is
 * at least once and in order per shard: if the handler throws, the same batch is retried after `retryDelayMs` until
 * it succeeds (Lambda's default of unlimited retries) or, with `onFailure`, until its retries run out and it is
 * recorded and skipped; if it returns `batchItemFailures` (sequence numbers), delivery resumes from the lowest failed
 * record. Resolves once positioned, so writes made after it resolves are seen.
 */
export async function pollTableStream(options: PollTableStreamOptions): Promise<Poller> {
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const dynamo = new DynamoDBClient({ endpoint: options.endpoint, region: LOCAL_REGION, credentials });
  const streams = new DynamoDBStreamsClient({ endpoint: options.endpoint, region: LOCAL_REGION, credentials });
  const intervalMs = options.intervalMs ?? 100;
  const batchSize = options.batchSize ?? 100;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const functionName = options.functionName ?? `local-${options.tableName}-stream-consumer`;
  const onError = options.onError ?? ((error: unknown) => console.error(`stream poller ${options.tableName}:`, error));

  const table = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
  dynamo.destroy();
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) {
    streams.destroy();
    throw new Error(`table ${options.tableName} has no stream: create it with a StreamSpecification`);
  }
  const shards = new Map<string, ShardState>();

  const listShards = async (): Promise<Shard[]> => {
    const all: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const page = await streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      all.push(...(page.StreamDescription?.Shards ?? []));
      exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return all;
  };

  const iteratorFor = async (shard: ShardState): Promise<string | undefined> => {
    const out = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.id,
        ShardIteratorType: shard.position.type,
        SequenceNumber: shard.position.sequenceNumber,
      }),
    );
    return out.ShardIterator;
  };

  const refreshShards = async (initial: boolean) => {
    for (const shard of await listShards()) {
      if (!shard.ShardId || shards.has(shard.ShardId)) continue;
      const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      const state: ShardState = {
        id: shard.ShardId,
        parentId: shard.ParentShardId,
        position: { type: initial ? (options.startingPosition ?? 'LATEST') : 'TRIM_HORIZON' },
        // Nothing is LATER than the end of a closed shard: with LATEST it has nothing left to deliver.
        done: initial && closed && (options.startingPosition ?? 'LATEST') === 'LATEST',
      };
      // LATEST must be pinned now, or records written before the first poll would be skipped.
      if (!state.done && state.position.type === 'LATEST') state.iterator = await iteratorFor(state);
      shards.set(state.id, state);
    }
  };

  /** A shard is read only after its parent is finished, which keeps each item's changes in order. */
  const ready = (shard: ShardState) => {
    if (shard.done) return false;
    const parent = shard.parentId ? shards.get(shard.parentId) : undefined;
    return !parent || parent.done;
  };

  /** After a failed invocation: true when the batch ran out of retries and is now recorded (the shard moves on). */
  const gaveUp = async (shardId: string, pending: DynamoDBRecord[], invocations: number): Promise<boolean> => {
    const failure = options.onFailure;
    if (!failure || invocations <= failure.retryAttempts) return false;
    const sequence = (record?: DynamoDBRecord) => record?.dynamodb?.SequenceNumber ?? '';
    try {
      await failure.record({
        requestContext: {
          condition: 'RetryAttemptsExhausted',
          functionArn: functionName,
          approximateInvokeCount: invocations,
        },
        version: '1.0',
        timestamp: new Date().toISOString(),
        DDBStreamBatchInfo: {
          shardId,
          startSequenceNumber: sequence(pending[0]),
          endSequenceNumber: sequence(pending[pending.length - 1]),
          batchSize: pending.length,
          streamArn,
        },
      });
      return true;
    } catch (error) {
      onError(error); // the destination is unreachable: keep the batch (nothing is skipped unrecorded)
      return false;
    }
  };

  const deliver = async (shardId: string, records: _Record[], { stopping, pause }: PollControl): Promise<boolean> => {
    const region = await streams.config.region();
    let pending = records
      .map((record) => toLambdaRecord(record, streamArn, region))
      .filter((record) => !options.filter || options.filter(record));
    let invocations = 0;
    while (pending.length) {
      if (stopping.aborted) return false;
      let response: Awaited<ReturnType<StreamLambdaHandler>>;
      invocations++;
      try {
        response = await invokeLocally(functionName, options.handler, { Records: pending });
      } catch (error) {
        onError(error);
        if (await gaveUp(shardId, pending, invocations)) return true;
        await pause(retryDelayMs);
        continue; // the same batch again: the shard does not move past a record until it is processed
      }
      const failures = response?.batchItemFailures ?? [];
      if (!failures.length) return true;
      const indexes = failures.map((failure) =>
        pending.findIndex((record) => record.dynamodb?.SequenceNumber === failure?.itemIdentifier),
      );
      // Like Lambda, an identifier that is not in the batch fails the whole batch.
      const from = indexes.includes(-1) ? 0 : Math.min(...indexes);
      onError(new Error(`batch item failure at ${pending[from]?.dynamodb?.SequenceNumber}: retrying from there`));
      pending = pending.slice(from);
      if (await gaveUp(shardId, pending, invocations)) return true;
      await pause(retryDelayMs);
    }
    return true;
  };

  /** Reads and delivers one batch of a shard; returns how many records it delivered. */
  const pollShard = async (shard: ShardState, control: PollControl): Promise<number> => {
    shard.iterator ??= await iteratorFor(shard);
    if (!shard.iterator) {
      shard.done = true;
      return 0;
    }
    let out: GetRecordsCommandOutput;
    try {
      out = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: batchSize }));
    } catch (error) {
      if (error instanceof ExpiredIteratorException) {
        shard.iterator = undefined; // a fresh one from the last delivered position on the next round
        return 0;
      }
      if (error instanceof TrimmedDataAccessException) {
        onError(error);
        shard.position = { type: 'TRIM_HORIZON' };
        shard.iterator = undefined;
        return 0;
      }
      throw error;
    }
    const records = out.Records ?? [];
    if (records.length) {
      if (!(await deliver(shard.id, records, control))) return 0; // stopping mid-retry: the position stays before this batch
      const last = records[records.length - 1]?.dynamodb?.SequenceNumber;
      if (last) shard.position = { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: last };
    }
    shard.iterator = out.NextShardIterator;
    if (!shard.iterator) shard.done = true; // a closed shard, read to its end; its children come next
    return records.length;
  };

  await refreshShards(true);
  let lastRefresh = Date.now();

  return startPollLoop(
    async (control) => {
      let delivered = 0;
      for (const shard of [...shards.values()].filter(ready)) {
        if (control.stopping.aborted) break;
        delivered += await pollShard(shard, control);
      }
      if (Date.now() - lastRefresh >= 1000 || ![...shards.values()].some((shard) => !shard.done)) {
        lastRefresh = Date.now();
        await refreshShards(false);
      }
      return delivered;
    },
    { idleDelayMs: intervalMs, onError, onStopped: () => streams.destroy() },
  );
}

/** The record as Lambda delivers it: attribute values in their JSON form (binary as base64), times in epoch seconds. */
function toLambdaRecord(record: _Record, streamArn: string, region: string): DynamoDBRecord {
  const source = record.dynamodb ?? {};
  const dynamodb: StreamRecord = {
    ...(source.ApproximateCreationDateTime
      ? { ApproximateCreationDateTime: Math.floor(source.ApproximateCreationDateTime.getTime() / 1000) }
      : {}),
    ...(source.Keys ? { Keys: toImage(source.Keys) } : {}),
    ...(source.NewImage ? { NewImage: toImage(source.NewImage) } : {}),
    ...(source.OldImage ? { OldImage: toImage(source.OldImage) } : {}),
    SequenceNumber: source.SequenceNumber,
    SizeBytes: source.SizeBytes,
    StreamViewType: source.StreamViewType,
  };
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    // DynamoDB Local reports the region as `ddblocal`; Lambda reports the table's region.
    awsRegion: region,
    eventSourceARN: streamArn,
    dynamodb,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
  };
}

function toImage(image: Record<string, StreamAttributeValue>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(image)) out[name] = toAttribute(value);
  return out;
}

function toAttribute(value: StreamAttributeValue): AttributeValue {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toAttribute) };
  if (value.M !== undefined) return { M: toImage(value.M) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  throw new Error(`unsupported attribute value: ${JSON.stringify(value)}`);
}
