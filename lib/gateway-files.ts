import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
  StorageClass,
} from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import type { BucketDefinition } from '#domain/buckets.ts';

/** Days the S3 server access logs of the reconciliation buckets are kept (a year of "who fetched which file"). */
const ACCESS_LOG_RETENTION_DAYS = 365;

/**
 * The target of the reconciliation buckets' S3 server access logs. S3 delivers access logs only to a bucket encrypted
 * with SSE-S3 (not SSE-KMS); the logs hold requesters, keys and status codes, never file contents. Private, TLS only,
 * retained, kept for {@link ACCESS_LOG_RETENTION_DAYS} days. It does not log itself (that would loop).
 */
export function accessLogsBucket(scope: Construct, id: string): Bucket {
  const bucket = new Bucket(scope, id, {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    encryption: BucketEncryption.S3_MANAGED,
    lifecycleRules: [{ id: 'access-log-retention', expiration: Duration.days(ACCESS_LOG_RETENTION_DAYS) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  NagSuppressions.addResourceSuppressions(bucket, [
    {
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket of the bills and reports buckets; logging it would log itself.',
    },
  ]);
  return bucket;
}

/**
 * A reconciliation bucket (bills or reports) from its shared definition: private (every public-access block on,
 * ACLs disabled), TLS 1.2+ only (a bucket policy denies any request without `aws:SecureTransport` or below TLS 1.2),
 * SSE-KMS with `key` by default and an S3 Bucket Key (far fewer KMS calls than one per object), versioned (a replaced
 * bill or a re-run report keeps its earlier version as evidence), with the definition's lifecycle rules (scoped to
 * its key prefix), and retained when the stack is deleted.
 *
 * Server access logs go to `accessLogs` under `{role}/` (best-effort delivery; CloudTrail S3 data events answer
 * "who read which report" exactly, if finance asks for it).
 */
export function reconciliationBucket(
  scope: Construct,
  id: string,
  definition: BucketDefinition,
  key: IKey,
  accessLogs: IBucket,
): Bucket {
  return new Bucket(scope, id, {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    encryption: BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    serverAccessLogsBucket: accessLogs,
    serverAccessLogsPrefix: `${definition.role}/`,
    versioned: true,
    lifecycleRules: [
      {
        id: `${definition.role}-retention`,
        prefix: definition.keyPrefix,
        transitions: [
          {
            storageClass: StorageClass.INFREQUENT_ACCESS,
            transitionAfter: Duration.days(definition.infrequentAccessAfterDays),
          },
        ],
        expiration: Duration.days(definition.expireAfterDays),
        noncurrentVersionExpiration: Duration.days(definition.noncurrentVersionExpireAfterDays),
      },
      {
        // Bucket-wide housekeeping: an upload that never completed, and a delete marker whose versions have all
        // expired, are garbage wherever their key is.
        id: 'housekeeping',
        abortIncompleteMultipartUploadAfter: Duration.days(definition.abortIncompleteUploadAfterDays),
        expiredObjectDeleteMarker: true,
      },
    ],
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
