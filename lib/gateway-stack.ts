import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { GatewayApi } from './gateway-api.ts';
import { GatewayData } from './gateway-data.ts';

/** Properties of {@link GatewayStack}. */
export interface GatewayStackProps extends StackProps {
  /** Absolute path of the project root (handler entries, `package.json` import aliases, lock file). */
  readonly projectRoot: string;
  /** Enables the sandbox channel; for test environments only (`cdk deploy -c sandbox=true`). */
  readonly sandboxEnabled: boolean;
}

/**
 * The whole gateway in one stack, as two constructs: {@link GatewayData} (stateful, retained) and {@link GatewayApi}
 * (stateless), which receives the data as props.
 *
 * One stack rather than a data stack and an API stack: `Secret.grantRead` on a KMS-encrypted secret adds the reading
 * role to the key's policy (a `kms:ViaService` statement), so the data stack would reference the API stack's roles
 * while the API stack references the table — a cycle between stacks. One stack also avoids cross-stack exports, which
 * block changing or removing whatever they export. Nothing is lost: every stateful resource is retained on delete.
 */
export class GatewayStack extends Stack {
  /** The stateful resources. */
  readonly data: GatewayData;
  /** The HTTP API and its functions. */
  readonly api: GatewayApi;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    const { projectRoot, sandboxEnabled, ...stackProps } = props;
    super(scope, id, stackProps);
    this.data = new GatewayData(this, 'Data');
    this.api = new GatewayApi(this, 'Api', { data: this.data, projectRoot, sandboxEnabled });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the gateway API' });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName, description: 'The gateway table' });
    new CfnOutput(this, 'MerchantKeyId', {
      value: this.data.merchantKey.keyId,
      description: 'KMS key of merchant secrets (the merchant CLI encrypts with it)',
    });
    new CfnOutput(this, 'SandboxSecretArn', {
      value: this.data.sandboxSecret.secretArn,
      description: 'Secrets Manager ARN of the sandbox channel secret',
    });
  }
}
