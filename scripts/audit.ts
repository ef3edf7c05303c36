import { DynamoAuditLog } from '#adapters/dynamo/audit-log.ts';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { type CliSpec, command, connectTarget, runIfMain, UsageError } from './cli.ts';

const MAX_DAYS = 31;

/** `npm run audit`: read the audit trail. */
export const auditCli: CliSpec = {
  name: 'audit',
  summary: 'Read the audit trail: who did what, when, to which resource, in which request.',
  footer: 'Targets the running local stack (npm start) unless TABLE_NAME is set (then the AWS environment).',
  commands: {
    list: command({
      summary: 'the audit records of a time range, oldest first, one JSON object a line',
      usage: '--since ISO_TIME [--until ISO_TIME] [--merchant ID]',
      details: `  --since ISO_TIME   start of the range (required), e.g. 2026-12-01T00:00:00Z
  --until ISO_TIME   end of the range (default now); at most ${MAX_DAYS} days after --since
  --merchant ID      only the records of this merchant
Each record holds redacted before/after views (never a secret).`,
      options: { since: { type: 'string' }, until: { type: 'string' }, merchant: { type: 'string' } },
      async run(values, { printLine }) {
        const { since, until } = timeRange(values);
        connectTarget();
        const log = new DynamoAuditLog(createDocumentClient(), process.env.TABLE_NAME ?? '');
        for (const record of await log.list({ since, until, merchantId: values.merchant })) printLine(record);
        return undefined;
      },
    }),
  },
};

/**
 * The `[--since, --until)` range of an audit read: ISO times, since before until, at most 31 days; `--until`
 * defaults to now, `--since` to `defaultSinceMs` before it when given, else it is required.
 */
export function timeRange(values: { since?: string; until?: string }, defaultSinceMs?: number) {
  if (!values.since && defaultSinceMs === undefined) throw new UsageError('--since is required');
  const until = values.until ? new Date(values.until) : new Date();
  const since = values.since ? new Date(values.since) : new Date(until.getTime() - (defaultSinceMs ?? 0));
  if (Number.isNaN(since.getTime()) || Number.isNaN(until.getTime()) || since >= until) {
    throw new UsageError('--since and --until must be ISO times, since before until');
  }
  if (until.getTime() - since.getTime() > MAX_DAYS * 86_400_000) {
    throw new UsageError(`at most ${MAX_DAYS} days per call`);
  }
  return { since, until };
}

runIfMain(import.meta.filename, auditCli);
