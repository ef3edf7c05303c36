import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createContainer } from '#adapters/container.ts';
import { createMerchant, rotateMerchantSecret } from '#app/merchant-admin.ts';
import { startBillWorkers } from './bill-workers.ts';
import { renderLogsForHumans } from './human-logs.ts';
import { loadLocalSecrets, startLocalStack } from './stack.ts';
import { startWebhookReceiver } from './webhook-receiver.ts';
import { startLocalWorkers } from './workers.ts';

const projectRoot = resolve(import.meta.dirname, '..');
const localDir = join(projectRoot, '.local');
const DEMO_MERCHANT = 'mch_demo';
/** DynamoDB Local's files: merchants, channel profiles, payments and wallets survive a restart. */
const dataDir = join(localDir, 'dynamodb');

const USAGE = `npm start [-- --fresh]

The local stack: DynamoDB Local (data kept in .local/dynamodb/), local SQS and S3, the API, the workers and the state
machines, and a demo merchant. Ctrl-C stops everything; the next \`npm start\` finds the same data.
  --fresh   start with an empty table (deletes .local/dynamodb/ first; channel secrets and credentials stay)
Every request, and every webhook delivery, is logged as one line: method path → status · ms · function · request id.
Environment: PORT (default 3000; the demo merchant's webhook receiver listens on PORT + 1), BILL_SCHEDULE_MS (how
often the bill schedule runs; default hourly, as deployed; docs/finance.md), LOG_FORMAT=json (the functions' logs as
on AWS, Powertools JSON), POWERTOOLS_LOG_LEVEL (default INFO).`;

/**
 * `npm start`: DynamoDB Local, local SQS and S3, the API on http://127.0.0.1:3000 (env PORT), the stream and queue
 * workers and the state machines (in process), the bill schedule and upload reactions (`bill-workers.ts`), a seeded
 * demo merchant whose webhook endpoint (PORT + 1) prints every signed notification, and `.local/credentials.json` as API.md describes. The table's data is kept in
 * `.local/dynamodb/` across restarts (`--fresh` starts empty). Ctrl-C stops everything.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { fresh: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.fresh) rmSync(dataDir, { recursive: true, force: true });
  if (process.env.LOG_FORMAT !== 'json') renderLogsForHumans();
  const port = Number(process.env.PORT ?? 3000);
  const secrets = loadLocalSecrets(localDir);
  // Channel accounts configured with `npm run channel` keep their keys here, never in the table.
  process.env.CHANNEL_SECRETS_DIR = join(localDir, 'channels');
  const stack = await startLocalStack({ projectRoot, port, secrets, dbPath: dataDir });
  const workers = await startLocalWorkers(stack);
  // Bills: uploads react like the S3 notifications, the sandbox publishes its daily bill on the schedule.
  const bills = startBillWorkers(stack.s3);

  // The demo merchant and its secret survive restarts (the table is kept in .local/dynamodb/); it is created on the
  // first start (or after --fresh), and given a new secret if its credentials file was lost.
  const credentialsFile = join(localDir, 'credentials.json');
  const previous = existsSync(credentialsFile)
    ? (JSON.parse(readFileSync(credentialsFile, 'utf8')) as { merchant_secret?: string })
    : {};
  let merchantSecret = previous.merchant_secret ?? '';
  const webhooks = await startWebhookReceiver({
    port: port === 0 ? 0 : port + 1,
    secret: () => merchantSecret,
    onNotification: (n) =>
      console.log(`← webhook ${n.eventId} ${n.type} (signature ${n.signatureValid ? 'verified' : 'INVALID'})`),
  });
  const container = createContainer();
  const existing = await container.merchants.get(DEMO_MERCHANT);
  const { secret } = !existing
    ? await createMerchant(container, {
        id: DEMO_MERCHANT,
        name: 'Demo merchant',
        // Test mode: the demo's payments that name no channel go to the sandbox cashier.
        mode: 'test',
        secret: previous.merchant_secret,
        notifyUrl: webhooks.url,
      })
    : previous.merchant_secret
      ? { secret: previous.merchant_secret }
      : await rotateMerchantSecret(container, DEMO_MERCHANT, 0);
  merchantSecret = secret;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack…`);
    bills.stop();
    await workers.stop();
    await webhooks.stop();
    await stack.stop();
    rmSync(join(localDir, 'stack.json'), { force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const credentials = {
    api_base: stack.apiBase,
    merchant_id: DEMO_MERCHANT,
    merchant_secret: secret,
    sandbox_secret: secrets.sandboxSecret,
  };
  writeFileSync(credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  // Where the CLI (npm run merchant) finds this running stack.
  writeFileSync(
    join(localDir, 'stack.json'),
    `${JSON.stringify(
      { api_base: stack.apiBase, dynamodb_endpoint: stack.dynamo.endpoint, s3_endpoint: stack.s3.endpoint },
      null,
      2,
    )}\n`,
  );

  console.log(`
Payment gateway running on ${stack.apiBase}
  DynamoDB Local ${stack.dynamo.endpoint} · SQS ${stack.sqs.endpoint} · demo merchant webhooks ${webhooks.url}
Credentials for the demo merchant: .local/credentials.json · data kept in .local/dynamodb/ (npm start -- --fresh empties it)

Quick start (another terminal):
  npm run demo                                  # create a payment, pay it in the sandbox, read the balance
  npm run demo -- --unpaid                      # create a payment and print its cashier URL (pay_url)
  npm run merchant -- create --name "Shop"      # create another merchant (prints its secret once)

Signed notifications to the demo merchant appear below as they are delivered. Ctrl-C stops everything.`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
