import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { BucketDefinition } from '#adapters/bucket-definitions.ts';

/**
 * A reconciliation bucket (bills or reports) from its shared definition: private (every public-access block on,
 * ACLs disabled), TLS 1.2+ only (a bucket policy denies any request without `aws:SecureTransport` or below TLS 1.2),
 * SSE-KMS with `key` by default and an S3 Bucket Key (far fewer KMS calls than one per object), versioned (a replaced
 * bill or a re-run report keeps its earlier version as evidence), with the definition's lifecycle rules (scoped to
 * its key prefix), and retained when the stack is deleted.
 *
 * Server access logs are not enabled: their target bucket cannot use SSE-KMS and delivery is best effort. Who read
 * or wrote which report is better answered by CloudTrail S3 data events on these two buckets, if finance asks for it.
 */
export function reconciliationBucket(scope: Construct, id: string, definition: BucketDefinition, key: IKey): Bucket {
  return new Bucket(scope, id, {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    encryption: BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
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
