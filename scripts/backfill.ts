import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { backfillListingKeys, decodeBackfillCursor } from '#adapters/dynamo/listing-backfill.ts';
import { type CliSpec, command, connectTarget, runIfMain, UsageError } from './cli.ts';

/** `npm run backfill`: one-off, idempotent data migrations an operator runs after a deployment. */
export const backfillCli: CliSpec = {
  name: 'backfill',
  summary: 'One-off, idempotent data migrations (safe to rerun, resumable from the cursor each page prints).',
  footer: 'Targets the running local stack (npm start) unless TABLE_NAME is set (then the AWS environment).',
  commands: {
    listings: command({
      summary: 'give refunds and events written before the listings their GSI1 keys (GET /v1/refunds, /v1/events)',
      usage: '[--page-size N] [--pages N] [--cursor C]',
      details: `  --page-size N   table items scanned per page (1-1000, default 500)
  --pages N       stop after N pages (default: until the table's end)
  --cursor C      resume where a previous run stopped (its next_cursor)
Scans the table (a one-off: nothing indexes what an index misses) and sets GSI1PK/GSI1SK on REFUND and EVENT items
that lack them, each update conditional on the item still lacking them. Prints the total (pages, scanned, indexed,
done, next_cursor to resume with when --pages stopped it); progress on stderr. docs/api-listings.md.`,
      options: { 'page-size': { type: 'string' }, pages: { type: 'string' }, cursor: { type: 'string' } },
      async run(values, { stderr }) {
        const pageSize = values['page-size'] === undefined ? 500 : Number(values['page-size']);
        if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
          throw new UsageError('--page-size must be 1-1000');
        }
        const pages = values.pages === undefined ? Number.POSITIVE_INFINITY : Number(values.pages);
        if (values.pages !== undefined && (!Number.isInteger(pages) || pages < 1)) {
          throw new UsageError('--pages must be a positive integer');
        }
        let cursor = values.cursor === undefined ? undefined : decodeBackfillCursor(values.cursor);
        if (values.cursor !== undefined && !cursor) throw new UsageError('--cursor: not a cursor this command printed');
        connectTarget();
        const db = createDocumentClient();
        const total = { pages: 0, scanned: 0, indexed: 0, nextCursor: null as string | null };
        do {
          const page = await backfillListingKeys(db, process.env.TABLE_NAME ?? '', { pageSize, cursor });
          stderr(`page: scanned ${page.scanned}, indexed ${page.indexed}\n`);
          total.pages++;
          total.scanned += page.scanned;
          total.indexed += page.indexed;
          total.nextCursor = page.nextCursor ?? null;
          cursor = page.nextCursor ? decodeBackfillCursor(page.nextCursor) : undefined;
        } while (cursor && total.pages < pages);
        return { done: total.nextCursor === null, ...total };
      },
    }),
  },
};

runIfMain(import.meta.filename, backfillCli);
