import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LocalChannelSecrets, SecretsManagerChannelSecrets } from '#adapters/channel-secrets.ts';
import { DynamoChannelHealthRepository } from '#adapters/dynamo/channel-health-repository.ts';
import { DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import type { ChannelSecrets } from '#app/ports.ts';
import { newId } from '#shared/ids.ts';
import { channelCli } from './channel-commands.ts';
import { connectTarget, localDir, runIfMain } from './cli.ts';

/**
 * The secret store of the CLI's target: on the local stack `npm start` runs, `.local/channels/`; in the AWS environment
 * (TABLE_NAME) Secrets Manager, or CHANNEL_SECRETS_DIR when that is set.
 */
function secretStore(): ChannelSecrets {
  if (connectTarget() === 'local') return new LocalChannelSecrets(join(localDir(), 'channels'));
  if (process.env.CHANNEL_SECRETS_DIR) return new LocalChannelSecrets(process.env.CHANNEL_SECRETS_DIR);
  return new SecretsManagerChannelSecrets({ kmsKeyId: process.env.CHANNEL_SECRETS_KEY_ID, maxAgeSeconds: 0 });
}

runIfMain(
  import.meta.filename,
  channelCli(() => {
    const secrets = secretStore();
    const tableName = process.env.TABLE_NAME ?? '';
    const db = createDocumentClient(new DynamoDBClient({}));
    return {
      profiles: new DynamoChannelProfileRepository(db, tableName),
      health: new DynamoChannelHealthRepository(db, tableName, { cacheTtlMs: 0, consistentRead: true }),
      secrets,
      clock: () => new Date(),
      newId,
      sandboxEnabled: process.env.SANDBOX_ENABLED === 'true',
    };
  }),
);
