import { DynamoChannelJournal } from '#adapters/dynamo/channel-journal.ts';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { CliError, type CliSpec, command, connectTarget, runIfMain, UsageError } from './cli.ts';

const PAYMENT_ID = /^pay_[A-Za-z0-9]{1,64}$/;

/** `npm run journal`: read the channel message journal (what was sent to and received from Alipay / WeChat Pay). */
export const journalCli: CliSpec = {
  name: 'journal',
  summary: `Read the channel message journal: every request the gateway sent to Alipay or WeChat Pay about a payment
(create, query, close, refund, refund query) with the channel's answer, and every callback the channel sent —
redacted (signatures and keys replaced, payer identifiers masked). Kept JOURNAL_RETENTION_DAYS days (default 180).`,
  footer: 'Targets the running local stack (npm start) unless TABLE_NAME is set (then the AWS environment).',
  commands: {
    show: command({
      summary: "a payment's journal (its refunds' messages included), oldest first, one JSON object a line",
      usage: '--payment pay_… [--limit N]',
      details: `  --payment ID   the payment (required)
  --limit N      at most N entries (1-1000, default 100)
Each entry: at, channel, operation, payment_id, refund_id, outcome (OK|ERROR), http_status, latency_ms, error_code,
error_message, channel_trade_no, channel_refund_no, request, response. Exit 1 when the payment has no entries.`,
      options: { payment: { type: 'string' }, limit: { type: 'string' } },
      async run(values, { printLine }) {
        if (!values.payment || !PAYMENT_ID.test(values.payment)) throw new UsageError('--payment pay_… is required');
        const limit = values.limit === undefined ? 100 : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be 1-1000');
        connectTarget();
        const journal = new DynamoChannelJournal(createDocumentClient(), process.env.TABLE_NAME ?? '', 0);
        const entries = await journal.listByPayment(values.payment, limit);
        if (entries.length === 0) throw new CliError(`no journal entries for ${values.payment}`);
        for (const entry of entries) printLine(entry);
        return undefined;
      },
    }),
  },
};

runIfMain(import.meta.filename, journalCli);
