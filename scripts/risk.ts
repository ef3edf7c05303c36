import { readFileSync } from 'node:fs';
import { createContainer } from '#adapters/container.ts';
import { DynamoAuditLog } from '#adapters/dynamo/audit-log.ts';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import { addBlacklistEntry, configView, removeBlacklistEntry, setRiskConfig } from '#app/risk-admin.ts';
import { approveReview, rejectReview } from '#app/risk-review.ts';
import type { AuditRecord } from '#domain/audit.ts';
import { formatAmount } from '#domain/money.ts';
import type { Payment } from '#domain/payment.ts';
import { DEFAULT_RISK_CONFIG, HARD_RULES, SOFT_RULES } from '#domain/risk.ts';
import { timeRange } from './audit.ts';
import { type CliSpec, command, connectTarget, runIfMain, UsageError } from './cli.ts';

/** Points the CLI at its target and builds the container (the AWS environment needs no public URL). */
function container() {
  if (connectTarget() === 'aws') process.env.PUBLIC_BASE_URL ??= 'https://unused.invalid';
  return createContainer();
}

function need(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`--${flag} is required`);
  return value;
}

function action(positionals: string[], allowed: readonly string[]): string {
  const [first] = positionals;
  if (!first || !allowed.includes(first)) throw new UsageError(`an action comes first: ${allowed.join(', ')}`);
  return first;
}

/** `npm run risk`: the risk engine's configuration, blacklists and review queue. */
export const riskCli: CliSpec = {
  name: 'risk',
  summary:
    'Risk control: rules and limits (versioned), blacklists (with expiry), held payments (review), blocked attempts. Audited.',
  footer: `Targets the running local stack (npm start) unless TABLE_NAME is set, in which case it uses the AWS
environment. Every change is recorded in the audit trail. Model and configuration: docs/risk.md.`,
  verbatimKeys: ['limits', 'weights'],
  commands: {
    rules: command({
      summary: "show or change the configuration (the gateway's, or one merchant's own)",
      usage: 'list [--merchant ID] | set [--merchant ID] (--json JSON | --file PATH)',
      details: `  list               the configuration in force (the merchant's own, else the gateway's) and the rule ids
  set                a new version: the sections given (limits, velocity, anomaly, weights, merchant_day_shards,
                     thresholds) replace the current ones (a merchant_day_shards count applies from a later UTC
                     day). Example: npm run risk -- rules set --json '{"thresholds":{"review":40,"block":80}}'`,
      options: { merchant: { type: 'string' }, json: { type: 'string' }, file: { type: 'string' } },
      async run(values, { positionals }) {
        const store = container().riskStore;
        if (action(positionals, ['list', 'set']) === 'list') {
          const config =
            (values.merchant ? await store.config(values.merchant) : undefined) ??
            (await store.config()) ??
            DEFAULT_RISK_CONFIG;
          return { config: configView(config), rules: { hard: HARD_RULES, soft: SOFT_RULES } };
        }
        const text = values.file ? readFileSync(values.file, 'utf8') : need(values.json, 'json (or --file)');
        let input: unknown;
        try {
          input = JSON.parse(text);
        } catch {
          throw new UsageError('the configuration is not JSON');
        }
        return configView(await setRiskConfig(container(), input, values.merchant));
      },
    }),
    blacklist: command({
      summary: 'list, add or remove blacklist entries (payer, device, ip incl. CIDR, merchant)',
      usage:
        'list | add --kind KIND --value V [--merchant ID] [--reason TEXT] [--expires-at ISO | --expires-in-seconds N] | remove --kind KIND --value V [--merchant ID]',
      details: `  --kind payer|device|ip|merchant   a payer entry needs --merchant (accounts are per merchant)
  --value V                         the account id, device id, IP address or CIDR range, or merchant id
  --expires-at / --expires-in-seconds   when the entry stops acting (default: never)`,
      options: {
        kind: { type: 'string' },
        value: { type: 'string' },
        merchant: { type: 'string' },
        reason: { type: 'string' },
        'expires-at': { type: 'string' },
        'expires-in-seconds': { type: 'string' },
      },
      async run(values, { positionals }) {
        const deps = container();
        const verb = action(positionals, ['list', 'add', 'remove']);
        if (verb === 'list') return (await deps.riskStore.listBlacklist()).map(entryView);
        const target = {
          kind: need(values.kind, 'kind'),
          value: need(values.value, 'value'),
          merchantId: values.merchant,
        };
        if (verb === 'remove') {
          await removeBlacklistEntry(deps, target);
          return { removed: true, kind: target.kind, value: target.value };
        }
        const seconds = values['expires-in-seconds'];
        if (seconds !== undefined && !/^[1-9][0-9]*$/.test(seconds))
          throw new UsageError('--expires-in-seconds: N > 0');
        const expiresAt = seconds
          ? new Date(deps.clock().getTime() + Number(seconds) * 1000).toISOString()
          : values['expires-at'];
        return entryView(await addBlacklistEntry(deps, { ...target, reason: values.reason, expiresAt }));
      },
    }),
    review: command({
      summary: 'payments held for review: list, approve (payable from then on) or reject (closed, limits given back)',
      usage: 'list | approve --payment ID [--note TEXT] | reject --payment ID [--note TEXT]',
      options: { payment: { type: 'string' }, note: { type: 'string' } },
      async run(values, { positionals }) {
        const deps = container();
        const verb = action(positionals, ['list', 'approve', 'reject']);
        if (verb === 'approve')
          return reviewView(await approveReview(deps, need(values.payment, 'payment'), values.note));
        if (verb === 'reject')
          return reviewView(await rejectReview(deps, need(values.payment, 'payment'), values.note));
        const held = [];
        for (const id of await deps.riskStore.listReviews(deps.clock())) {
          const payment = await deps.payments.get(id);
          if (payment?.status === 'PENDING' && payment.risk?.review?.status === 'PENDING')
            held.push(reviewView(payment));
        }
        return held;
      },
    }),
    blocked: command({
      summary: "a merchant's blocked attempts (403 RISK_REJECTED) from the audit trail, oldest first, one JSON a line",
      usage: 'list --merchant ID [--since ISO_TIME] [--until ISO_TIME]',
      details: `  --merchant ID      the merchant whose attempts were blocked (required)
  --since ISO_TIME   start of the range (default: one day before --until)
  --until ISO_TIME   end of the range (default now); at most 31 days after --since
Each line: when, the order_no, amount, currency, requested channel, the rules that fired, the score and the request
id (never a threshold, nor the payer's IP or device).`,
      options: { merchant: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' } },
      async run(values, { positionals, printLine }) {
        action(positionals, ['list']);
        const merchantId = need(values.merchant, 'merchant');
        const range = timeRange(values, 86_400_000);
        connectTarget();
        const log = new DynamoAuditLog(createDocumentClient(), process.env.TABLE_NAME ?? '');
        for (const record of await log.list({ ...range, merchantId })) {
          if (record.action === 'risk.blocked') printLine(blockedView(record));
        }
        return undefined;
      },
    }),
  },
};

/** A `risk.blocked` audit record as the CLI prints it. */
function blockedView(record: AuditRecord) {
  const after = record.after ?? {};
  return {
    at: record.at,
    merchantId: record.merchantId,
    orderNo: after.orderNo,
    amount: formatAmount(Number(after.amountMinor), String(after.currency)),
    currency: after.currency,
    channel: after.channel,
    rules: after.rules,
    score: after.score,
    requestId: record.requestId ?? null,
    auditId: record.id,
  };
}

function entryView(entry: { kind: string; value: string; merchantId?: string; reason?: string; expiresAt?: string }) {
  return {
    kind: entry.kind,
    value: entry.value,
    merchant_id: entry.merchantId ?? null,
    reason: entry.reason ?? null,
    expires_at: entry.expiresAt ?? null,
  };
}

function reviewView(payment: Payment) {
  return {
    payment_id: payment.id,
    merchant_id: payment.merchantId,
    status: payment.status,
    amount: formatAmount(payment.amountMinor, payment.currency),
    currency: payment.currency,
    channel: payment.channel,
    score: payment.risk?.score ?? 0,
    rules: payment.risk?.rules ?? [],
    review: payment.risk?.review?.status ?? null,
    decided_by: payment.risk?.review?.decidedBy ?? null,
    pay_url: payment.payUrl ?? null,
    expires_at: payment.expiresAt,
  };
}

runIfMain(import.meta.filename, riskCli);
