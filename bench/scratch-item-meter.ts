import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { TABLE_DEFINITION } from '#adapters/dynamo/table-definition.ts';
import { createGatewayTable } from '../local/tables.ts';

/** One transaction item as the document client takes it (plain values, not yet marshalled). */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Standard (non-transactional) write units of items written one at a time: base table and secondary indexes. */
export interface ItemUnits {
  table: number;
  indexes: number;
}

/**
 * Re-measures the write units of a transaction's items one item at a time, with DynamoDB Local's single-item
 * accounting, which follows DynamoDB's rules (1 unit per started KB of the larger of the old and the new item, per
 * index write — a changed index key costs a delete and a put, an unchanged KEYS_ONLY entry nothing). DynamoDB Local
 * does not apply them per item to `TransactWriteItems` (see the capacity section), so each item is copied with its
 * CURRENT version from the gateway's table into a scratch table of the same definition, then written there with a
 * plain PutItem and `ReturnConsumedCapacity: 'INDEXES'`. Call it before the transaction commits.
 */
export class ScratchItemMeter {
  private constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly sourceTable: string,
    private readonly scratchTable: string,
  ) {}

  /** Creates the scratch table (same definition as `sourceTable`) in the DynamoDB the environment points at. */
  static async create(sourceTable: string): Promise<ScratchItemMeter> {
    const scratchTable = `${sourceTable}-bench-scratch`;
    const client = new DynamoDBClient({});
    await createGatewayTable(client, scratchTable);
    // Same marshalling options as the gateway's client, so the items have the same size.
    return new ScratchItemMeter(createDocumentClient(client), sourceTable, scratchTable);
  }

  /** The standard write units of every item of a transaction, summed; throws for an item it cannot re-measure. */
  async measure(items: readonly TransactItem[]): Promise<ItemUnits> {
    const units = await Promise.all(items.map((item) => this.measureItem(item)));
    return units.reduce((sum, unit) => ({ table: sum.table + unit.table, indexes: sum.indexes + unit.indexes }), {
      table: 0,
      indexes: 0,
    });
  }

  /** Closes the scratch client. */
  destroy(): void {
    this.db.destroy();
  }

  private async measureItem(item: TransactItem): Promise<ItemUnits> {
    const put = item.Put;
    if (!put?.Item || put.TableName !== this.sourceTable) {
      throw new Error(`cannot re-measure a transaction item other than a Put into ${this.sourceTable}`);
    }
    const key = {
      [TABLE_DEFINITION.partitionKey]: put.Item[TABLE_DEFINITION.partitionKey],
      [TABLE_DEFINITION.sortKey]: put.Item[TABLE_DEFINITION.sortKey],
    };
    const { Item: current } = await this.db.send(
      new GetCommand({ TableName: this.sourceTable, Key: key, ConsistentRead: true }),
    );
    if (current) await this.db.send(new PutCommand({ TableName: this.scratchTable, Item: current }));
    else await this.db.send(new DeleteCommand({ TableName: this.scratchTable, Key: key }));
    const { ConsumedCapacity: consumed } = await this.db.send(
      new PutCommand({ TableName: this.scratchTable, Item: put.Item, ReturnConsumedCapacity: 'INDEXES' }),
    );
    const table = consumed?.Table?.CapacityUnits;
    if (table === undefined) throw new Error('DynamoDB Local returned no per-table ConsumedCapacity for a PutItem');
    const indexes = [
      ...Object.values(consumed?.GlobalSecondaryIndexes ?? {}),
      ...Object.values(consumed?.LocalSecondaryIndexes ?? {}),
    ].reduce((sum, index) => sum + (index.CapacityUnits ?? 0), 0);
    return { table, indexes };
  }
}
