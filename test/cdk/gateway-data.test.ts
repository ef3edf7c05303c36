import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TABLE_DEFINITION } from '#adapters/dynamo/table-definition.ts';
import { NOTIFY_DLQ, NOTIFY_QUEUE, NOTIFY_REDRIVE, RELAY_REDRIVE } from '#adapters/queue-definitions.ts';
import { functionTimeout } from '../../lib/worker-settings.ts';
import { logicalIdOf, synthesizeGateway } from './gateway-template.ts';

describe('gateway data', () => {
  const { stack, template, resources } = synthesizeGateway();

  it('keys the table by string PK and SK, billed on demand, with TTL and a new-image stream', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'PK', KeyType: 'HASH' },
        { AttributeName: 'SK', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'PK', AttributeType: 'S' },
        { AttributeName: 'SK', AttributeType: 'S' },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
    });
  });

  it('declares every GSI of the shared table definition with its keys and projection', () => {
    const table = Object.values(resources).find((resource) => resource.Type === 'AWS::DynamoDB::Table');
    expect(table?.Properties?.GlobalSecondaryIndexes).toEqual(
      TABLE_DEFINITION.globalSecondaryIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: index.projection },
      })),
    );
    expect(table?.Properties?.GlobalSecondaryIndexes).toHaveLength(3);
    expect(table?.Properties?.AttributeDefinitions).toEqual(
      expect.arrayContaining(
        ['GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'GSI3PK', 'GSI3SK'].map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
      ),
    );
  });

  it('enables point-in-time recovery and encrypts the table with the customer-managed data key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [logicalIdOf(stack.data.dataKey), 'Arn'] },
      },
    });
  });

  it("redrives the notify queue into its dead-letter queue after the shared definition's receive count", () => {
    const queue = resources[logicalIdOf(stack.data.notifyQueue)]?.Properties;
    expect(queue).toMatchObject({
      QueueName: NOTIFY_QUEUE.name,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(stack.data.notifyDeadLetters), 'Arn'] },
        maxReceiveCount: NOTIFY_REDRIVE.maxReceiveCount,
      },
    });
    expect(resources[logicalIdOf(stack.data.notifyDeadLetters)]?.Properties).toMatchObject({
      QueueName: NOTIFY_DLQ.name,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it("keeps a notify message invisible for at least six times the notify function's timeout", () => {
    const queue = resources[logicalIdOf(stack.data.notifyQueue)]?.Properties;
    expect(queue?.VisibilityTimeout).toBeGreaterThanOrEqual(6 * functionTimeout('Notify').toSeconds());
    expect(queue?.VisibilityTimeout).toBeGreaterThanOrEqual(NOTIFY_QUEUE.visibilityTimeoutSeconds);
  });

  it('keeps skipped stream batches in a failure queue of their own for 14 days, with the final queue behind it', () => {
    expect(resources[logicalIdOf(stack.data.relayFailures)]?.Properties).toMatchObject({
      MessageRetentionPeriod: 14 * 24 * 3600,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(stack.data.relayUndeliverable), 'Arn'] },
        maxReceiveCount: RELAY_REDRIVE.maxReceiveCount,
      },
    });
    expect(resources[logicalIdOf(stack.data.relayFailures)]?.Properties?.VisibilityTimeout).toBeGreaterThan(
      functionTimeout('RelayRedrive').toSeconds(),
    );
    expect(resources[logicalIdOf(stack.data.relayUndeliverable)]?.Properties).toMatchObject({
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('encrypts every queue at rest and denies it to any request without TLS', () => {
    const queues = [
      stack.data.notifyQueue,
      stack.data.notifyDeadLetters,
      stack.data.relayFailures,
      stack.data.relayUndeliverable,
    ];
    template.resourceCountIs('AWS::SQS::Queue', queues.length);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    for (const queue of queues) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalIdOf(queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('retains the table, the keys, the secret and the queues when the stack is deleted or a resource is replaced', () => {
    for (const construct of [
      stack.data.table,
      stack.data.dataKey,
      stack.data.merchantKey,
      stack.data.channelSecretsKey,
      stack.data.sandboxSecret,
      stack.data.notifyQueue,
      stack.data.notifyDeadLetters,
      stack.data.relayFailures,
      stack.data.relayUndeliverable,
    ]) {
      expect(resources[logicalIdOf(construct)]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  it('rotates every KMS key: the data, merchant, channel-secrets, files and alarm topic keys', () => {
    template.resourceCountIs('AWS::KMS::Key', 5);
    template.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(resources[logicalIdOf(stack.data.channelSecretsKey)]?.Properties).toMatchObject({
      EnableKeyRotation: true,
    });
  });

  it('gives the channel-secrets key its own alias', () => {
    template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/pay-gateway/channel-secrets',
      TargetKeyId: { 'Fn::GetAtt': [logicalIdOf(stack.data.channelSecretsKey), 'Arn'] },
    });
  });

  it('generates the sandbox channel secret and encrypts it with the data key, not the merchant key', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 48, ExcludePunctuation: true }),
      KmsKeyId: { 'Fn::GetAtt': [logicalIdOf(stack.data.dataKey), 'Arn'] },
    });
  });

  it('outputs the API URL, table name, merchant key id, channel-secrets key id and sandbox secret ARN', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.TableName?.Value).toEqual({ Ref: logicalIdOf(stack.data.table) });
    expect(outputs.MerchantKeyId?.Value).toEqual({ Ref: logicalIdOf(stack.data.merchantKey) });
    expect(outputs.ChannelSecretsKeyId?.Value).toEqual({ Ref: logicalIdOf(stack.data.channelSecretsKey) });
    expect(outputs.SandboxSecretArn?.Value).toEqual({ Ref: logicalIdOf(stack.data.sandboxSecret) });
    expect(outputs.ApiUrl?.Value).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack.api.httpApi), 'ApiEndpoint'] });
  });
});
