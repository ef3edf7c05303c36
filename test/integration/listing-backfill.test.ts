import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { eventIndexes, keys, refundIndexes } from '#adapters/dynamo/keys.ts';
import { listMerchantItems } from '#adapters/dynamo/merchant-listing.ts';
import { createGatewayTable } from '../../local/tables.ts';
import { backfillCli } from '../../scripts/backfill.ts';
import { runCliCaptured } from '../../scripts/cli.ts';

describe('npm run backfill -- listings', () => {
  it('indexes pre-listing refunds and events once, page by page, and leaves everything else alone', async () => {
    // A table of its own: the command scans a whole table, and the shared one holds every other test's items.
    const table = `backfill-${randomBytes(4).toString('hex')}`;
    await createGatewayTable(new DynamoDBClient({}), table);
    const db = createDocumentClient();
    const merchantId = 'mch_backfill';
    const createdAt = '2026-11-20T10:00:00.000Z';
    const put = (item: Record<string, unknown>) => db.send(new PutCommand({ TableName: table, Item: item }));
    // Written before listings: no GSI1 attributes.
    await put({
      ...keys.refund('ref_old'),
      entity: 'REFUND',
      id: 'ref_old',
      merchantId,
      createdAt,
      status: 'SUCCEEDED',
    });
    await put({
      ...keys.event('evt_old'),
      entity: 'EVENT',
      id: 'evt_old',
      merchantId,
      createdAt,
      type: 'refund.succeeded',
    });
    // Already indexed (by a later write): never rewritten.
    const current = { GSI1PK: 'MERCHANT#mch_backfill#REFUNDS', GSI1SK: 'kept' };
    await put({ ...keys.refund('ref_new'), entity: 'REFUND', id: 'ref_new', merchantId, createdAt, ...current });
    for (let i = 0; i < 5; i++)
      await put({ ...keys.merchant(`mch_other_${i}`), entity: 'MERCHANT', id: `mch_other_${i}` });

    const previousTable = process.env.TABLE_NAME;
    process.env.TABLE_NAME = table;
    try {
      const first = await runCliCaptured(backfillCli, ['listings', '--page-size', '2', '--pages', '1']);
      expect(first.code).toBe(0);
      const stopped = JSON.parse(first.stdout) as Record<string, unknown>;
      expect(stopped).toMatchObject({ done: false, pages: 1, scanned: 2 });
      const rest = await runCliCaptured(backfillCli, [
        'listings',
        '--page-size',
        '2',
        '--cursor',
        String(stopped.next_cursor),
      ]);
      const finished = JSON.parse(rest.stdout) as Record<string, unknown>;
      expect(finished).toMatchObject({ done: true, next_cursor: null });
      expect(Number(stopped.indexed) + Number(finished.indexed)).toBe(2);
      expect(Number(stopped.scanned) + Number(finished.scanned)).toBe(8);

      const again = JSON.parse((await runCliCaptured(backfillCli, ['listings'])).stdout) as Record<string, unknown>;
      expect(again).toMatchObject({ done: true, indexed: 0, scanned: 8 });
      expect(await runCliCaptured(backfillCli, ['listings', '--cursor', 'bm90LWEtY3Vyc29y'])).toMatchObject({
        code: 2,
      });
    } finally {
      process.env.TABLE_NAME = previousTable;
    }

    const item = async (key: { PK: string; SK: string }) =>
      (await db.send(new GetCommand({ TableName: table, Key: key }))).Item ?? {};
    expect(await item(keys.refund('ref_old'))).toMatchObject(
      refundIndexes.byMerchant(merchantId, createdAt, 'ref_old', undefined),
    );
    expect(await item(keys.event('evt_old'))).toMatchObject(
      eventIndexes.byMerchant(merchantId, createdAt, 'evt_old', undefined),
    );
    expect(await item(keys.refund('ref_new'))).toMatchObject(current);
    expect(await item(keys.merchant('mch_other_0'))).not.toHaveProperty('GSI1PK');
    // And the listings now find them.
    const refunds = await listMerchantItems<{ id: string }>(db, table, { merchantId, kind: 'refunds' }, { limit: 10 });
    expect(refunds.items.map((refund) => refund.id)).toContain('ref_old');
    const events = await listMerchantItems<{ id: string }>(db, table, { merchantId, kind: 'events' }, { limit: 10 });
    expect(events.items.map((event) => event.id)).toEqual(['evt_old']);
  });
});
