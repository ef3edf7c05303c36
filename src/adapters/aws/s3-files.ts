import {
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BILL_CONTENT_TYPE, REPORT_URL_TTL_SECONDS } from '#domain/buckets.ts';
import { requireSetting } from '#shared/config.ts';

/** Size and time of a stored object (`HeadObject`). */
export interface StoredObjectInfo {
  /** Bytes. */
  size: number;
  lastModified: Date;
}

/** The buckets {@link S3Files} works on; absent where a function is not granted one (fails at first use). */
export interface FileBuckets {
  /** Channel bill files (`BILLS_BUCKET`): read by the reconcile run, written by the channel download / ops CLI. */
  bills?: string;
  /** Reconciliation reports (`REPORTS_BUCKET`): written by the reconcile run, handed out as presigned URLs. */
  reports?: string;
}

/** Presigned URLs may be valid for at most seven days (SigV4's limit). */
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/**
 * The S3 client the gateway uses: the endpoint comes from the SDK's standard `AWS_ENDPOINT_URL_S3` (the local stack,
 * LocalStack), and any such endpoint is addressed path-style (`http://host:port/bucket/key`), as local emulators have
 * no per-bucket DNS names; on AWS the SDK's virtual-hosted default stays.
 */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({ forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3) });
}

/**
 * Channel bills and reconciliation reports on S3. A bill is streamed, never loaded whole: {@link openBill} hands out
 * the response body as it arrives, so a multi-hundred-MB bill costs the reconcile function a few chunks of memory.
 *
 * Objects are written without encryption headers: each bucket's default encryption (SSE-KMS with the stack's files
 * key and an S3 Bucket Key) applies. Sending `x-amz-server-side-encryption: aws:kms` without the key id would make
 * S3 use the account's AWS-managed `aws/s3` key instead of the bucket's customer-managed key.
 */
export class S3Files {
  constructor(
    private readonly buckets: FileBuckets,
    private readonly s3: S3Client = createS3Client(),
  ) {}

  /**
   * Streams a bill: its bytes in the chunks the response delivers them, or `undefined` when there is no bill under
   * `key` (the caller reports MISSING_BILL). The connection stays open until the stream is read to the end or the
   * consuming `for await` loop exits (`break`, `return` or a throw closes it), so always consume or leave the loop.
   */
  async openBill(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const bucket = requireSetting(this.buckets.bills, 'BILLS_BUCKET');
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return byteStream(object.Body, key);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Size and last-modified time of a bill, or `undefined` when there is none under `key`. */
  async headBill(key: string): Promise<StoredObjectInfo | undefined> {
    return this.head(requireSetting(this.buckets.bills, 'BILLS_BUCKET'), key);
  }

  /**
   * Stores a bill (the channel download job, the ops CLI, tests). The body is in memory: a job that downloads a large
   * bill should pass the file's bytes, which S3 receives with their length and checksum in one request.
   */
  async putBill(key: string, body: string | Uint8Array, contentType: string = BILL_CONTENT_TYPE): Promise<void> {
    await this.put(requireSetting(this.buckets.bills, 'BILLS_BUCKET'), key, body, contentType);
  }

  /** Stores a report file (a re-run replaces it; the bucket's versioning keeps the earlier one). */
  async putReport(key: string, body: string | Uint8Array, contentType: string): Promise<void> {
    await this.put(requireSetting(this.buckets.reports, 'REPORTS_BUCKET'), key, body, contentType);
  }

  /**
   * A URL that downloads a report with a plain GET, valid for `expiresInSeconds` (15 minutes by default). Signing
   * is local (no request to S3), so it does not check that the report exists: look first with {@link headReport}.
   * The URL carries the signer's authority: on AWS the signing function needs `s3:GetObject` on the report and
   * `kms:Decrypt` on the bucket's key, and the URL stops working early if its temporary credentials expire.
   */
  async presignReport(key: string, expiresInSeconds: number = REPORT_URL_TTL_SECONDS): Promise<string> {
    if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
      throw new Error(`a presigned URL must be valid for 1 s to 7 days, not ${expiresInSeconds} s`);
    }
    const bucket = requireSetting(this.buckets.reports, 'REPORTS_BUCKET');
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  /** Size and last-modified time of a report file, or `undefined` when it has not been written (yet). */
  async headReport(key: string): Promise<StoredObjectInfo | undefined> {
    return this.head(requireSetting(this.buckets.reports, 'REPORTS_BUCKET'), key);
  }

  private async head(bucket: string, key: string): Promise<StoredObjectInfo | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { size: head.ContentLength ?? 0, lastModified: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  private async put(bucket: string, key: string, body: string | Uint8Array, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  }
}

/**
 * A missing object: `NoSuchKey` from GetObject, `NotFound` (a bare 404, HEAD responses have no body) from HeadObject.
 * A missing bucket (`NoSuchBucket`) is a deployment error and is thrown.
 */
function isMissing(error: unknown): boolean {
  if (error instanceof NoSuchKey || error instanceof NotFound) return true;
  return error instanceof S3ServiceException && error.name === 'NotFound';
}

/** The response body as bytes: on Node the SDK returns an `IncomingMessage`, which iterates its chunks as Buffers. */
function byteStream(body: unknown, key: string): AsyncIterable<Uint8Array> {
  if (body && typeof body === 'object' && Symbol.asyncIterator in body) {
    return body as AsyncIterable<Uint8Array>;
  }
  throw new Error(`S3 returned no readable body for ${key}`);
}
