import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoAuditLog } from '#adapters/dynamo/audit-log.ts';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { connectToRunningStack } from '../local/stack.ts';

const USAGE = `Usage: npm run audit -- list --since ISO_TIME [--until ISO_TIME] [--merchant ID]
  list   the audit trail (oldest first, one JSON object a line): who did what, when, to which resource, in which
         request, with redacted before/after views. --until defaults to now; at most 31 days per call.
Targets the running local stack (npm start) unless TABLE_NAME is set (then the AWS environment).`;

const MAX_DAYS = 31;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      merchant: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || positionals[0] !== 'list' || !values.since) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const since = new Date(values.since);
  const until = values.until ? new Date(values.until) : new Date();
  if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime()) || since >= until) {
    throw new Error('--since and --until must be ISO times, since before until');
  }
  if (until.getTime() - since.getTime() > MAX_DAYS * 86_400_000) throw new Error(`at most ${MAX_DAYS} days per call`);
  if (!process.env.TABLE_NAME) connectToRunningStack(resolve(import.meta.dirname, '..', '.local'));
  const log = new DynamoAuditLog(createDocumentClient(), process.env.TABLE_NAME ?? '');
  for (const record of await log.list({ since, until, merchantId: values.merchant })) {
    console.log(JSON.stringify(record));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
