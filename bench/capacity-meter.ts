import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { WRITE_COMMANDS } from './dynamo-recorder.ts';
import type { FlowStep } from './flows.ts';
import type { ItemUnits, ScratchItemMeter, TransactItem } from './scratch-item-meter.ts';

/** The DynamoDB APIs that read and accept `ReturnConsumedCapacity`. */
const READ_COMMANDS: ReadonlySet<string> = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

/** One DynamoDB call a handler made while the meter was on, and the capacity it consumed. */
export interface MeteredCall {
  cycle: number;
  step: FlowStep;
  /** API name, e.g. `PutItem`, `TransactWriteItems`, `GetItem`. */
  command: string;
  write: boolean;
  /** The `entity` attribute of each item written, or of the item read (empty when a read found nothing). */
  entities: string[];
  items: number;
  /** Capacity units DynamoDB Local reported (writes: WCU, reads: RCU); undefined if it returned none. */
  units: number | undefined;
  /** Transactions only: the standard units of each item re-measured alone (see {@link ScratchItemMeter}). */
  perItem: ItemUnits | undefined;
  /** Why `perItem` is missing for a transaction. */
  perItemError: string | undefined;
  failed: boolean;
}

type Input = Record<string, unknown> & { Item?: Record<string, unknown>; TransactItems?: TransactItem[] };
type Output = { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[]; Item?: Record<string, unknown> };

/**
 * Meters the capacity of every DynamoDB call a (document) client makes while a step is marked: an
 * `initialize`-step middleware (it sees the command input before it is marshalled) that asks for
 * `ReturnConsumedCapacity: 'TOTAL'` on every read and write and sums the `ConsumedCapacity` of the answer — an object
 * for single-item calls, an array for transactions. Before a `TransactWriteItems` is sent it also has its items
 * re-measured one at a time. Unmarked calls pass through untouched, so other runs are not affected.
 */
export class CapacityMeter {
  private at: { cycle: number; step: FlowStep } | undefined;
  private readonly recorded: MeteredCall[] = [];

  constructor(private readonly items: ScratchItemMeter) {}

  /** Adds the metering middleware to a (document) client's middleware stack. */
  attach(client: Pick<DynamoDBDocumentClient, 'middlewareStack'>): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const at = this.at;
        const command = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
        const write = WRITE_COMMANDS.has(command);
        if (!at || !(write || READ_COMMANDS.has(command))) return next(args);
        const input = args.input as Input;
        const call = await this.begin(at, command, write, input);
        try {
          const result = await next({ ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL' } });
          const output = result.output as Output;
          call.units = consumedUnits(output.ConsumedCapacity, write);
          if (!write && typeof output.Item?.entity === 'string') call.entities = [output.Item.entity];
          return result;
        } catch (error) {
          call.failed = true;
          throw error;
        }
      },
      { step: 'initialize', name: 'benchCapacityMeter', override: true },
    );
  }

  /** Attributes the calls from now on to `step` of cycle `cycle`. */
  mark(cycle: number, step: FlowStep): void {
    this.at = { cycle, step };
  }

  /** Stops metering; calls pass through untouched again. */
  stop(): void {
    this.at = undefined;
  }

  /** Every call metered so far, in the order sent. */
  get calls(): readonly MeteredCall[] {
    return this.recorded;
  }

  private async begin(
    at: { cycle: number; step: FlowStep },
    command: string,
    write: boolean,
    input: Input,
  ): Promise<MeteredCall> {
    const transaction = input.TransactItems;
    const written = transaction ? transaction.map((item) => item.Put?.Item ?? {}) : [input.Item ?? {}];
    const call: MeteredCall = {
      ...at,
      command,
      write,
      entities: write ? written.map((item) => String((item as { entity?: unknown }).entity ?? '?')) : [],
      items: transaction?.length ?? 1,
      units: undefined,
      perItem: undefined,
      perItemError: undefined,
      failed: false,
    };
    this.recorded.push(call);
    if (transaction) {
      try {
        call.perItem = await this.items.measure(transaction);
      } catch (error) {
        call.perItemError = error instanceof Error ? error.message : String(error);
      }
    }
    return call;
  }
}

/** Sums a `ConsumedCapacity` answer (object or array); undefined when there is none. */
function consumedUnits(consumed: Output['ConsumedCapacity'], write: boolean): number | undefined {
  const list = consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed];
  if (list.length === 0) return undefined;
  return list.reduce(
    (sum, entry) => sum + ((write ? entry.WriteCapacityUnits : entry.ReadCapacityUnits) ?? entry.CapacityUnits ?? 0),
    0,
  );
}
