import {
  type AttributeValue,
  BatchWriteItemCommand,
  type BatchWriteItemInput,
  DeleteItemCommand,
  DynamoDBClient,
  type Put,
  PutItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  type Update,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { TABLE_DEFINITION } from '#adapters/dynamo/table-definition.ts';
import type { MarshalledWriteInput, RecordedWrite } from './dynamo-recorder.ts';
import { runPool } from './pool.ts';
import { cpuMsSince } from './stats.ts';

const PK = TABLE_DEFINITION.partitionKey;
/** Every replayed write is conditional, like the gateway's, and the condition holds because every key is new. */
const CONDITION = `attribute_not_exists(${PK})`;

type Item = Record<string, AttributeValue>;

/** A keyed write (Delete, ConditionCheck, the base of an Update), always with the replay's condition. */
interface KeyedWrite {
  TableName: string | undefined;
  Key: Item;
  ConditionExpression: string;
}

/** The parts of an UpdateItem (alone or in a transaction) the replay keeps. */
interface UpdateLike {
  TableName?: string;
  Key?: Item;
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
}

/** A prepared replay call: the API and its rewritten input. */
type RawCall =
  | { command: 'PutItem'; input: Put }
  | { command: 'UpdateItem'; input: Update }
  | { command: 'DeleteItem'; input: KeyedWrite }
  | { command: 'TransactWriteItems'; input: TransactWriteItem[] }
  | { command: 'BatchWriteItem'; input: BatchWriteItemInput };

/** What the raw replay did. */
export interface RawRun {
  calls: number;
  items: number;
  elapsedMs: number;
  /** CPU time of this process (the SDK client side only) during the replay. */
  nodeCpuMs: number;
  latenciesMs: number[];
}

/**
 * Replays the gateway's recorded writes straight against DynamoDB Local with a plain `DynamoDBClient` — no HTTP API,
 * no auth, no validation, no reads — on `concurrency` workers: the same number of calls, the same mix (PutItem /
 * UpdateItem / DeleteItem, TransactWriteItems with the same items), the same item bodies (same sizes, same GSI
 * attributes), each conditional like the gateway's writes. Only the partition key changes (`RAW#<call>#<original>`),
 * so every replayed item is new and every condition holds; a failed call fails the run.
 */
export async function replayWrites(writes: readonly RecordedWrite[], concurrency: number): Promise<RawRun> {
  const calls = writes.map((write, index) => prepare(write, index));
  const client = new DynamoDBClient({});
  const latenciesMs: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    await runPool(calls.length, concurrency, async (index) => {
      const call = calls[index];
      if (!call) return;
      const callStarted = performance.now();
      await send(client, call);
      latenciesMs.push(performance.now() - callStarted);
    });
  } finally {
    client.destroy();
  }
  return {
    calls: calls.length,
    items: writes.reduce((sum, write) => sum + write.items, 0),
    elapsedMs: performance.now() - started,
    nodeCpuMs: cpuMsSince(cpuBefore),
    latenciesMs,
  };
}

async function send(client: DynamoDBClient, call: RawCall): Promise<void> {
  switch (call.command) {
    case 'PutItem':
      await client.send(new PutItemCommand(call.input));
      return;
    case 'UpdateItem':
      await client.send(new UpdateItemCommand(call.input));
      return;
    case 'DeleteItem':
      await client.send(new DeleteItemCommand(call.input));
      return;
    case 'TransactWriteItems':
      await client.send(new TransactWriteItemsCommand({ TransactItems: call.input }));
      return;
    case 'BatchWriteItem': {
      const { UnprocessedItems } = await client.send(new BatchWriteItemCommand(call.input));
      if (Object.keys(UnprocessedItems ?? {}).length) throw new Error('raw BatchWriteItem left unprocessed items');
    }
  }
}

/** The recorded call with every key rewritten to a fresh one. */
function prepare(write: RecordedWrite, call: number): RawCall {
  const input = write.input;
  switch (write.command) {
    case 'PutItem':
      return { command: 'PutItem', input: put(input, call) };
    case 'UpdateItem':
      return { command: 'UpdateItem', input: update(input, call) };
    case 'DeleteItem':
      return { command: 'DeleteItem', input: keyed(input, call) };
    case 'TransactWriteItems':
      return { command: 'TransactWriteItems', input: (input.TransactItems ?? []).map((item) => transact(item, call)) };
    case 'BatchWriteItem':
      return { command: 'BatchWriteItem', input: batch(input, call) };
    default:
      throw new Error(`cannot replay ${write.command}`);
  }
}

function transact(item: TransactWriteItem, call: number): TransactWriteItem {
  if (item.Put) return { Put: put(item.Put, call) };
  if (item.Update) return { Update: update(item.Update, call) };
  if (item.Delete) return { Delete: keyed(item.Delete, call) };
  if (item.ConditionCheck) return { ConditionCheck: keyed(item.ConditionCheck, call) };
  throw new Error('cannot replay an empty transaction item');
}

function put(input: Pick<MarshalledWriteInput, 'TableName' | 'Item'>, call: number): Put {
  return { TableName: input.TableName, Item: rekey(input.Item, call), ConditionExpression: CONDITION };
}

function keyed(input: Pick<MarshalledWriteInput, 'TableName' | 'Key'>, call: number): KeyedWrite {
  return { TableName: input.TableName, Key: rekey(input.Key, call), ConditionExpression: CONDITION };
}

/** Same update expression; the placeholders only the original condition used are dropped with it. */
function update(input: UpdateLike, call: number): Update {
  const used = new Set(input.UpdateExpression?.match(/[#:][A-Za-z0-9_]+/g) ?? []);
  const pick = <T>(map: Record<string, T> | undefined) =>
    map && Object.fromEntries(Object.entries(map).filter(([name]) => used.has(name)));
  const names = pick(input.ExpressionAttributeNames);
  const values = pick(input.ExpressionAttributeValues);
  return {
    ...keyed(input, call),
    UpdateExpression: input.UpdateExpression,
    ...(names && Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
    ...(values && Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}

function batch(input: MarshalledWriteInput, call: number): BatchWriteItemInput {
  const rekeyRequest = (request: WriteRequest): WriteRequest =>
    request.PutRequest
      ? { PutRequest: { Item: rekey(request.PutRequest.Item, call) } }
      : { DeleteRequest: { Key: rekey(request.DeleteRequest?.Key, call) } };
  const requests = (input.RequestItems ?? {}) as Record<string, WriteRequest[]>;
  return {
    RequestItems: Object.fromEntries(
      Object.entries(requests).map(([table, entries]) => [table, entries.map(rekeyRequest)]),
    ),
  };
}

function rekey(item: Item | undefined, call: number): Item {
  const original = item?.[PK]?.S;
  if (!item || original === undefined) throw new Error(`cannot replay a write without a string ${PK}`);
  return { ...item, [PK]: { S: `RAW#${call}#${original}` } };
}
