import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createContainer } from '#adapters/container.ts';
import { createMerchant } from '#app/merchant-admin.ts';
import { loadLocalSecrets, startLocalStack } from './stack.ts';

const projectRoot = resolve(import.meta.dirname, '..');
const localDir = join(projectRoot, '.local');
const DEMO_MERCHANT = 'mch_demo';

/**
 * `npm start`: DynamoDB Local + the local API gateway on http://127.0.0.1:3000 (env PORT), a seeded demo merchant,
 * and `.local/credentials.json` as API.md describes. Ctrl-C stops everything.
 */
async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  const secrets = loadLocalSecrets(localDir);
  const stack = await startLocalStack({ projectRoot, port, secrets });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack…`);
    await stack.stop();
    rmSync(join(localDir, 'stack.json'), { force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  // The merchant secret survives restarts (DynamoDB Local is in memory, so the merchant is seeded each time).
  const credentialsFile = join(localDir, 'credentials.json');
  const previous = existsSync(credentialsFile)
    ? (JSON.parse(readFileSync(credentialsFile, 'utf8')) as { merchant_secret?: string })
    : {};
  const { secret } = await createMerchant(createContainer(), {
    id: DEMO_MERCHANT,
    name: 'Demo merchant',
    secret: previous.merchant_secret,
  });
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
    `${JSON.stringify({ api_base: stack.apiBase, dynamodb_endpoint: stack.dynamo.endpoint }, null, 2)}\n`,
  );

  console.log(`
Payment gateway running on ${stack.apiBase}   (DynamoDB Local at ${stack.dynamo.endpoint})
Credentials for the demo merchant: .local/credentials.json

Quick start (another terminal):
  npm run demo                      # create a payment, pay it in the sandbox, read the balance
  npm run merchant -- create --name "Shop"   # create another merchant (prints its secret once)

Ctrl-C stops everything.`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
