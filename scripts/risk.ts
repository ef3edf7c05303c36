import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createContainer } from '#adapters/container.ts';
import { addBlacklistEntry, configView, removeBlacklistEntry, setRiskConfig } from '#app/risk-admin.ts';
import { approveReview, rejectReview } from '#app/risk-review.ts';
import { formatAmount } from '#domain/money.ts';
import type { Payment } from '#domain/payment.ts';
import { DEFAULT_RISK_CONFIG, HARD_RULES, SOFT_RULES } from '#domain/risk.ts';
import { connectToRunningStack } from '../local/stack.ts';
import { asOperator } from './operator.ts';

const USAGE = `Usage: npm run risk -- <command> [options]      (JSON out; every change is audited)
  rules list [--merchant ID]                       the configuration in force (the merchant's own, else the gateway's)
  rules set [--merchant ID] (--json JSON | --file PATH)
                                                   a new version: the sections given replace the current ones
                                                   (limits, velocity, anomaly, weights, thresholds; see docs/risk.md)
  blacklist list
  blacklist add --kind payer|device|ip|merchant --value V [--merchant ID] [--reason TEXT]
                [--expires-at ISO_TIME | --expires-in-seconds N]
                                                   an ip value may be a CIDR range; a payer needs --merchant
  blacklist remove --kind KIND --value V [--merchant ID]
  review list                                      payments held for review (REVIEW), oldest first
  review approve --payment ID [--note TEXT]        registers it at its channel: payable from now on
  review reject --payment ID [--note TEXT]         closes it (payment.closed) and gives its limits back
Targets the running local stack (npm start) unless TABLE_NAME is set, in which case it uses the AWS environment.`;

/** Points the CLI at the local stack started by `npm start`, unless the AWS environment is configured. */
function configure(): void {
  if (process.env.TABLE_NAME) {
    process.env.PUBLIC_BASE_URL ??= 'https://unused.invalid';
    return;
  }
  connectToRunningStack(resolve(import.meta.dirname, '..', '.local'));
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      merchant: { type: 'string' },
      json: { type: 'string' },
      file: { type: 'string' },
      kind: { type: 'string' },
      value: { type: 'string' },
      reason: { type: 'string' },
      'expires-at': { type: 'string' },
      'expires-in-seconds': { type: 'string' },
      payment: { type: 'string' },
      note: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const command = positionals.slice(0, 2).join(' ');
  const known = [
    'rules list',
    'rules set',
    'blacklist list',
    'blacklist add',
    'blacklist remove',
    'review list',
    'review approve',
    'review reject',
  ];
  if (values.help || !known.includes(command)) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  configure();
  const container = createContainer();
  const need = (value: string | undefined, flag: string): string => {
    if (!value) throw new Error(`${command} needs --${flag}`);
    return value;
  };
  switch (command) {
    case 'rules list': {
      const config =
        (values.merchant ? await container.riskStore.config(values.merchant) : undefined) ??
        (await container.riskStore.config()) ??
        DEFAULT_RISK_CONFIG;
      print({ config: configView(config), rules: { hard: HARD_RULES, soft: SOFT_RULES } });
      break;
    }
    case 'rules set': {
      const text = values.file ? readFileSync(values.file, 'utf8') : need(values.json, 'json or --file');
      print(configView(await setRiskConfig(container, JSON.parse(text), values.merchant)));
      break;
    }
    case 'blacklist list':
      print((await container.riskStore.listBlacklist()).map(entryView));
      break;
    case 'blacklist add': {
      const seconds = values['expires-in-seconds'];
      if (seconds !== undefined && !/^[1-9][0-9]*$/.test(seconds)) throw new Error('--expires-in-seconds: N > 0');
      const expiresAt = seconds
        ? new Date(container.clock().getTime() + Number(seconds) * 1000).toISOString()
        : values['expires-at'];
      const entry = await addBlacklistEntry(container, {
        kind: need(values.kind, 'kind'),
        value: need(values.value, 'value'),
        merchantId: values.merchant,
        reason: values.reason,
        expiresAt,
      });
      print(entryView(entry));
      break;
    }
    case 'blacklist remove':
      await removeBlacklistEntry(container, {
        kind: need(values.kind, 'kind'),
        value: need(values.value, 'value'),
        merchantId: values.merchant,
      });
      print({ removed: true, kind: values.kind, value: values.value });
      break;
    case 'review list': {
      const now = container.clock();
      const held = [];
      for (const id of await container.riskStore.listReviews(now)) {
        const payment = await container.payments.get(id);
        if (payment?.status === 'PENDING' && payment.risk?.review?.status === 'PENDING') held.push(reviewView(payment));
      }
      print(held);
      break;
    }
    case 'review approve':
      print(reviewView(await approveReview(container, need(values.payment, 'payment'), values.note)));
      break;
    case 'review reject':
      print(reviewView(await rejectReview(container, need(values.payment, 'payment'), values.note)));
      break;
  }
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

asOperator(main).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
