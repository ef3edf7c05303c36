import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local.ts';
import { LocalGateway } from './gateway.ts';
import { createGatewayTable } from './tables.ts';

export const LOCAL_TABLE = 'pay-gateway-local';

/** Secrets of the local stack, generated once and kept under `.local/` (git-ignored), never in code. */
export interface LocalSecrets {
  masterKey: string;
  sandboxSecret: string;
}

/** Reads `.local/secrets.json`, creating it with fresh random secrets on the first run. */
export function loadLocalSecrets(dir: string): LocalSecrets {
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
  mkdirSync(dir, { recursive: true });
  const secrets = {
    masterKey: randomBytes(32).toString('base64'),
    sandboxSecret: `sbx_${randomBytes(24).toString('hex')}`,
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/**
 * Points this process's AWS SDK clients and handlers at a local DynamoDB and sets the configuration the CDK stack
 * would set on AWS. Must run before the first handler is invoked (the container reads it once).
 */
export function configureLocalEnvironment(options: {
  dynamoEndpoint: string;
  publicBaseUrl: string;
  secrets: LocalSecrets;
  tableName?: string;
}): void {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: options.dynamoEndpoint,
    TABLE_NAME: options.tableName ?? LOCAL_TABLE,
    PUBLIC_BASE_URL: options.publicBaseUrl,
    LOCAL_MASTER_KEY: options.secrets.masterKey,
    SANDBOX_SECRET: options.secrets.sandboxSecret,
    ALLOW_LOOPBACK_HTTP: 'true',
    SANDBOX_ENABLED: 'true',
    POWERTOOLS_SERVICE_NAME: 'pay-gateway',
    POWERTOOLS_METRICS_NAMESPACE: 'PayGateway',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Node 20 here, nodejs22.x on Lambda: the SDK's Node-version notice is known and only noise locally.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
}

export interface RunningStack {
  apiBase: string;
  dynamo: DynamoDbLocal;
  gateway: LocalGateway;
  stop(): Promise<void>;
}

/** Starts DynamoDB Local, creates the table, and serves the API on `port` (0 = any free port). */
export async function startLocalStack(options: {
  projectRoot: string;
  port: number;
  secrets: LocalSecrets;
  dynamo?: DynamoDbLocal;
}): Promise<RunningStack> {
  const dynamo = options.dynamo ?? (await startDynamoDbLocal());
  const gateway = new LocalGateway(options.projectRoot);
  try {
    const apiBase = await gateway.listen(options.port);
    configureLocalEnvironment({ dynamoEndpoint: dynamo.endpoint, publicBaseUrl: apiBase, secrets: options.secrets });
    const client = new DynamoDBClient({});
    await createGatewayTable(client, LOCAL_TABLE);
    client.destroy();
    return {
      apiBase,
      dynamo,
      gateway,
      async stop() {
        await gateway.close();
        if (!options.dynamo) await dynamo.stop();
      },
    };
  } catch (error) {
    await gateway.close();
    if (!options.dynamo) await dynamo.stop();
    throw error;
  }
}
