import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { TABLE_DEFINITION } from '#adapters/dynamo/table-definition.ts';

/** The stateful resources the stateless stack receives as props. */
export interface GatewayData {
  /** The single table (payments, wallets, ledger, events, merchants…). */
  readonly table: Table;
  /** Envelope key of merchant signing secrets: functions only decrypt; the merchant CLI encrypts. */
  readonly merchantKey: Key;
  /** The sandbox channel's HMAC secret. */
  readonly sandboxSecret: Secret;
}

/**
 * Everything that holds data and must survive a redeploy of the API: the table, the keys, the channel secret. All of
 * it is retained when the stack is deleted.
 */
export class GatewayDataStack extends Stack implements GatewayData {
  readonly table: Table;
  readonly dataKey: Key;
  readonly merchantKey: Key;
  readonly sandboxSecret: Secret;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // Two keys, not one: reading the table (which needs the data key) must not imply reading merchant secrets.
    this.dataKey = new Key(this, 'DataKey', {
      description: 'pay-gateway: encrypts the table and the channel secrets at rest',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.merchantKey = new Key(this, 'MerchantKey', {
      description: 'pay-gateway: envelope key of merchant signing secrets',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.table = gatewayTable(this, this.dataKey);

    this.sandboxSecret = new Secret(this, 'SandboxChannelSecret', {
      description: 'pay-gateway: HMAC secret of the built-in sandbox channel',
      encryptionKey: this.dataKey,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    new CfnOutput(this, 'TableName', { value: this.table.tableName, description: 'The gateway table' });
    new CfnOutput(this, 'MerchantKeyId', {
      value: this.merchantKey.keyId,
      description: 'KMS key of merchant secrets (the merchant CLI encrypts with it)',
    });
    new CfnOutput(this, 'SandboxSecretArn', {
      value: this.sandboxSecret.secretArn,
      description: 'Secrets Manager ARN of the sandbox channel secret',
    });
  }
}

/** The table, built from the same `TABLE_DEFINITION` the local stack creates its table from. */
function gatewayTable(scope: Construct, encryptionKey: Key): Table {
  const def = TABLE_DEFINITION;
  const table = new Table(scope, 'Table', {
    partitionKey: { name: def.partitionKey, type: AttributeType.STRING },
    sortKey: { name: def.sortKey, type: AttributeType.STRING },
    timeToLiveAttribute: def.timeToLiveAttribute,
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.CUSTOMER_MANAGED,
    encryptionKey,
    // The outbox re-drive will read committed events from the stream.
    stream: StreamViewType.NEW_IMAGE,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const index of def.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
      sortKey: { name: index.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType[index.projection],
    });
  }
  return table;
}
