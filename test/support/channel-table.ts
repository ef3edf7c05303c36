import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { createGatewayTable } from '../../local/tables.ts';

/**
 * A table of its own on the run's DynamoDB Local. Channel items are keyed by channel code (a fixed set), so tests of
 * breakers, profiles and daily counters cannot share the run's table with each other or with other files.
 */
export async function channelTable(): Promise<{
  db: DynamoDBDocumentClient;
  tableName: string;
  drop(): Promise<void>;
}> {
  const client = new DynamoDBClient({});
  const tableName = `channels-${randomBytes(5).toString('hex')}`;
  await createGatewayTable(client, tableName);
  return {
    db: createDocumentClient(client),
    tableName,
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
    },
  };
}
