import type {
  BatchWriteItemInput,
  DeleteItemInput,
  PutItemInput,
  TransactWriteItemsInput,
  UpdateItemInput,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The DynamoDB APIs that write. Everything else the gateway calls (GetItem, Query) is a read. */
export const WRITE_COMMANDS: ReadonlySet<string> = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'TransactWriteItems',
  'BatchWriteItem',
]);

/** A write command's input as it goes on the wire (already marshalled to attribute values). */
export type MarshalledWriteInput = Partial<PutItemInput> &
  Partial<UpdateItemInput> &
  Partial<DeleteItemInput> &
  Partial<TransactWriteItemsInput> &
  Partial<BatchWriteItemInput>;

/** One write API call the gateway made. */
export interface RecordedWrite {
  command: string;
  input: MarshalledWriteInput;
  /** Items the call wrote: 1, or the items of a transaction / batch. */
  items: number;
}

/** Calls, items and failures of one DynamoDB API. */
export interface CommandCount {
  calls: number;
  items: number;
  failures: number;
}

/**
 * Counts every DynamoDB API call a client sends, and keeps each write's marshalled input so it can be replayed.
 * It is a `build`-step middleware: after the document client has marshalled the input, before retries, so a call
 * counts once however often the SDK retries it. It records only between {@link start} and {@link stop}.
 */
export class DynamoCallRecorder {
  private recording = false;
  private readonly perCommand = new Map<string, CommandCount>();
  private readonly recordedWrites: RecordedWrite[] = [];

  /** Adds the recording middleware to a (document) client's middleware stack. */
  attach(client: Pick<DynamoDBDocumentClient, 'middlewareStack'>): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!this.recording) return next(args);
        const command = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
        const count = this.record(command, args.input as unknown as MarshalledWriteInput);
        try {
          return await next(args);
        } catch (error) {
          count.failures++;
          throw error;
        }
      },
      { step: 'build', name: 'benchDynamoCallRecorder', override: true },
    );
  }

  /** Forgets everything recorded so far and starts recording. */
  start(): void {
    this.perCommand.clear();
    this.recordedWrites.length = 0;
    this.recording = true;
  }

  /** Stops recording; the counts stay readable. */
  stop(): void {
    this.recording = false;
  }

  /** Calls per API name, e.g. `PutItem`, `TransactWriteItems`, `GetItem`. */
  get counts(): ReadonlyMap<string, CommandCount> {
    return this.perCommand;
  }

  /** Every write call recorded, in the order it was sent. */
  get writes(): readonly RecordedWrite[] {
    return this.recordedWrites;
  }

  private record(command: string, input: MarshalledWriteInput): CommandCount {
    const items = itemCount(command, input);
    const count = this.perCommand.get(command) ?? { calls: 0, items: 0, failures: 0 };
    count.calls++;
    count.items += items;
    this.perCommand.set(command, count);
    if (WRITE_COMMANDS.has(command)) this.recordedWrites.push({ command, input, items });
    return count;
  }
}

function itemCount(command: string, input: MarshalledWriteInput): number {
  if (command === 'TransactWriteItems') return input.TransactItems?.length ?? 0;
  if (command === 'BatchWriteItem') {
    return Object.values(input.RequestItems ?? {}).reduce((sum, requests) => sum + requests.length, 0);
  }
  return 1;
}
