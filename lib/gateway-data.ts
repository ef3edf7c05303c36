import { RemovalPolicy } from 'aws-cdk-lib';
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
import { Construct } from 'constructs';
import { TABLE_DEFINITION } from '#adapters/dynamo/table-definition.ts';

/**
 * The stateful resources: everything that holds data and must outlive a change to the API. The stateless half
 * receives them as props. All of them are retained when the stack is deleted.
 */
export class GatewayData extends Construct {
  /** The single table (payments, wallets, ledger, events, merchants…). */
  readonly table: Table;
  /** Encrypts the table and the channel secrets at rest. */
  readonly dataKey: Key;
  /** Envelope key of merchant signing secrets: functions only decrypt; the merchant CLI encrypts. */
  readonly merchantKey: Key;
  /** The sandbox channel's HMAC secret. */
  readonly sandboxSecret: Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);

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
