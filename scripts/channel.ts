import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LocalChannelSecrets, SecretsManagerChannelSecrets } from '#adapters/channel-secrets.ts';
import { DynamoChannelHealthRepository } from '#adapters/dynamo/channel-health-repository.ts';
import { DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import type { ChannelSecrets } from '#app/ports.ts';
import { newId } from '#shared/ids.ts';
import { connectToRunningStack } from '../local/stack.ts';
import { CHANNEL_USAGE, runChannelCommand, UsageError } from './channel-commands.ts';
import { asOperator } from './operator.ts';

const localDir = resolve(import.meta.dirname, '..', '.local');

/**
 * Points the CLI at the local stack started by `npm start` (secrets in `.local/channels/`), unless the AWS environment
 * is configured (TABLE_NAME; secrets in Secrets Manager, or in CHANNEL_SECRETS_DIR when that is set).
 */
function configure(): ChannelSecrets {
  if (process.env.TABLE_NAME) {
    if (process.env.CHANNEL_SECRETS_DIR) return new LocalChannelSecrets(process.env.CHANNEL_SECRETS_DIR);
    return new SecretsManagerChannelSecrets({ kmsKeyId: process.env.CHANNEL_SECRETS_KEY_ID, maxAgeSeconds: 0 });
  }
  connectToRunningStack(localDir);
  return new LocalChannelSecrets(join(localDir, 'channels'));
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv[0] === '--help') throw new UsageError(CHANNEL_USAGE);
  const secrets = configure();
  const tableName = process.env.TABLE_NAME ?? '';
  const db = createDocumentClient(new DynamoDBClient({}));
  const output = await runChannelCommand(argv, {
    profiles: new DynamoChannelProfileRepository(db, tableName),
    health: new DynamoChannelHealthRepository(db, tableName, { cacheTtlMs: 0, consistentRead: true }),
    secrets,
    clock: () => new Date(),
    newId,
    sandboxEnabled: process.env.SANDBOX_ENABLED === 'true',
  });
  console.log(JSON.stringify(output, null, 2));
}

asOperator(main).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(error instanceof UsageError ? 2 : 1);
});
