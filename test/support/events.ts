import { paginateScan } from '@aws-sdk/lib-dynamodb';
import type { Container } from '#adapters/container.ts';

/**
 * The outbox event of a payment with the given type, looked up by a test (merchants learn event ids from webhooks).
 * Events have no index by payment, so this pages through a filtered scan of the shared test table.
 */
export async function findEventId(container: Container, paymentId: string, type?: string): Promise<string | undefined> {
  const pages = paginateScan(
    { client: container.db },
    {
      TableName: container.config.tableName,
      FilterExpression: `entity = :event AND paymentId = :payment${type ? ' AND #type = :type' : ''}`,
      ...(type ? { ExpressionAttributeNames: { '#type': 'type' } } : {}),
      ExpressionAttributeValues: { ':event': 'EVENT', ':payment': paymentId, ...(type ? { ':type': type } : {}) },
    },
  );
  for await (const page of pages) {
    const found = page.Items?.[0];
    if (found) return String(found.id);
  }
  return undefined;
}
