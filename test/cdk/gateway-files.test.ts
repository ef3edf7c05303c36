import { Match } from 'aws-cdk-lib/assertions';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { BILLS_BUCKET, type BucketDefinition, REPORTS_BUCKET } from '#domain/buckets.ts';
import { FUNCTIONS, WORKERS } from '#routes';
import { FILES_KEY_ALIAS } from '../../lib/gateway-data.ts';
import { logicalIdOf, roleStatements, synthesizeGateway } from './gateway-template.ts';

describe('reconciliation buckets', () => {
  const { stack, template, resources } = synthesizeGateway();
  const buckets: [string, Bucket, BucketDefinition][] = [
    ['bills', stack.data.billsBucket, BILLS_BUCKET],
    ['reports', stack.data.reportsBucket, REPORTS_BUCKET],
  ];
  const propertiesOf = (bucket: Bucket) => resources[logicalIdOf(bucket)]?.Properties ?? {};

  it('creates exactly the bills and the reports bucket, and the bucket of their access logs', () => {
    template.resourceCountIs('AWS::S3::Bucket', 3);
  });

  it.each(buckets)('logs every request to the %s bucket to the private SSE-S3 access-log bucket', (role, bucket) => {
    const logs = logicalIdOf(stack.data.accessLogsBucket);
    expect(propertiesOf(bucket).LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logs },
      LogFilePrefix: `${role}/`,
    });
    expect(resources[logs]?.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
    });
  });

  it.each(buckets)('blocks every kind of public access to the %s bucket and disables ACLs', (_, bucket) => {
    expect(propertiesOf(bucket)).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  it.each(buckets)('denies any request to the %s bucket without TLS, or below TLS 1.2', (_, bucket) => {
    const bucketArn = { 'Fn::GetAtt': [logicalIdOf(bucket), 'Arn'] };
    const everything = [bucketArn, { 'Fn::Join': ['', [bucketArn, '/*']] }];
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalIdOf(bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: everything,
          }),
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            Resource: everything,
          }),
        ]),
      },
    });
  });

  it.each(buckets)('encrypts the %s bucket by default with the files key and an S3 Bucket Key', (_, bucket) => {
    expect(propertiesOf(bucket).BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [logicalIdOf(stack.data.filesKey), 'Arn'] },
          },
        },
      ],
    });
  });

  it('uses a rotated customer-managed files key of its own, not the data key, with an alias', () => {
    expect(resources[logicalIdOf(stack.data.filesKey)]?.Properties).toMatchObject({ EnableKeyRotation: true });
    expect(logicalIdOf(stack.data.filesKey)).not.toBe(logicalIdOf(stack.data.dataKey));
    template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: FILES_KEY_ALIAS,
      TargetKeyId: { 'Fn::GetAtt': [logicalIdOf(stack.data.filesKey), 'Arn'] },
    });
  });

  it.each(buckets)('versions the %s bucket, so a replaced file stays as evidence', (_, bucket) => {
    expect(propertiesOf(bucket).VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it.each(buckets)("applies the shared definition's lifecycle to the %s bucket", (_, bucket, definition) => {
    const rules = (propertiesOf(bucket).LifecycleConfiguration as { Rules: unknown[] }).Rules;
    expect(rules).toEqual([
      {
        Id: `${definition.role}-retention`,
        Status: 'Enabled',
        Prefix: definition.keyPrefix,
        Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: definition.infrequentAccessAfterDays }],
        ExpirationInDays: definition.expireAfterDays,
        NoncurrentVersionExpiration: { NoncurrentDays: definition.noncurrentVersionExpireAfterDays },
      },
      {
        Id: 'housekeeping',
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: definition.abortIncompleteUploadAfterDays },
        ExpiredObjectDeleteMarker: true,
      },
    ]);
  });

  it('keeps bills and reports three years, moves bills to Standard-IA after 30 days and reports after 90', () => {
    const retention = (bucket: Bucket) =>
      (propertiesOf(bucket).LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules[0];
    expect(retention(stack.data.billsBucket)).toMatchObject({
      ExpirationInDays: 1095,
      Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
    });
    expect(retention(stack.data.reportsBucket)).toMatchObject({
      ExpirationInDays: 1095,
      Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }],
    });
  });

  it('retains both buckets and the files key when the stack is deleted or a resource is replaced', () => {
    for (const construct of [stack.data.billsBucket, stack.data.reportsBucket, stack.data.filesKey]) {
      expect(resources[logicalIdOf(construct)]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  it("names either bucket in no function's policy but the declaring functions' (and the notification handler's)", () => {
    const declaring = new Set(
      [...FUNCTIONS, ...WORKERS]
        .filter(({ access }) => access.billsRead || access.billsWrite || access.reportsRead || access.reportsWrite)
        .map((spec) => spec.id),
    );
    const names = buckets.map(([, bucket]) => logicalIdOf(bucket));
    for (const [id, fn] of stack.functions) {
      if (declaring.has(id)) continue;
      const role = logicalIdOf(fn.role as NonNullable<typeof fn.role>);
      const document = JSON.stringify(roleStatements(resources, role));
      for (const name of names) expect(document, id).not.toContain(`"${name}"`);
    }
    // CDK's notification handler may only configure the bills bucket's notifications.
    const handler = Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('BucketNotificationsHandler'),
    );
    const handlerActions = roleStatements(resources, handler?.[0] ?? 'missing').flatMap(
      (statement) => statement.Action,
    );
    expect(handlerActions).toEqual(['s3:PutBucketNotification']);
  });

  it('outputs both bucket names and the files key id', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.BillsBucketName?.Value).toEqual({ Ref: logicalIdOf(stack.data.billsBucket) });
    expect(outputs.ReportsBucketName?.Value).toEqual({ Ref: logicalIdOf(stack.data.reportsBucket) });
    expect(outputs.FilesKeyId?.Value).toEqual({ Ref: logicalIdOf(stack.data.filesKey) });
  });
});
