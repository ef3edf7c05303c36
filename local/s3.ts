import type { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BucketAlreadyOwnedByYou, CreateBucketCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { BILLS_BUCKET, REPORTS_BUCKET } from '#domain/buckets.ts';

/** The reconciliation buckets of the local stack and the tests, by role. */
export const LOCAL_BUCKETS = { bills: BILLS_BUCKET.localName, reports: REPORTS_BUCKET.localName } as const;

/** An access key s3rver accepts (it only knows its own `S3RVER` key unless told). */
export interface LocalS3AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The local stack's credentials (`configureLocalEnvironment` sets them as AWS_ACCESS_KEY_ID / _SECRET_ACCESS_KEY). */
const LOCAL_ACCESS_KEY: LocalS3AccessKey = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A running local S3 (`s3rver`, in this process, speaking the S3 REST protocol; address it path-style). */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>`: what AWS_ENDPOINT_URL_S3 (or a client's `endpoint`) must point at. */
  endpoint: string;
  /** Where the objects are stored. */
  directory: string;
  /** Calls `listener` for each object created (a PUT, a copy), as an S3 event notification would. */
  onObjectCreated(listener: (bucket: string, key: string) => void): void;
  stop(): Promise<void>;
}

/** The record of s3rver's `event` emission: an S3 event notification record. */
interface S3rverEvent {
  Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string } } }[];
}

/** s3rver's account registry (not in its type declarations): every access key it accepts is registered here. */
interface S3rverAccounts {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}

/**
 * Starts local S3 on 127.0.0.1, on a free port unless `port` is given, storing objects in a fresh temporary
 * directory that `stop()` removes (unless `directory` is given, which is kept), without request logging.
 *
 * s3rver checks that a request's access key is one it knows, so the local stack's key (and any in `accessKeys`) is
 * registered; it does NOT verify SigV4 signatures (headers or presigned URLs), only a presigned URL's expiry.
 */
export async function startLocalS3(
  options: { port?: number; directory?: string; accessKeys?: LocalS3AccessKey[] } = {},
): Promise<LocalS3> {
  registerAccessKeys(options.accessKeys ?? [LOCAL_ACCESS_KEY]);
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'pay-gateway-s3-')));
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    directory,
    silent: true,
    // Path-style only: with vhost buckets on, a `Host: <bucket>.localhost` request would name a bucket.
    vhostBuckets: false,
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    if (!options.directory) await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    directory,
    onObjectCreated(listener) {
      // s3rver (a Koa app, so an EventEmitter) emits an S3 event record for each created object.
      (server as unknown as EventEmitter).on('event', (event: S3rverEvent) => {
        for (const record of event.Records) {
          if (!record.eventName.startsWith('ObjectCreated')) continue;
          listener(record.s3.bucket.name, decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')));
        }
      });
    },
    async stop() {
      // A body nobody finished reading holds its connection open; cut it so close() returns at once.
      (server as unknown as { httpServer?: Server }).httpServer?.closeAllConnections();
      await server.close();
      if (!options.directory) await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Creates each bucket that does not exist yet (idempotent). */
export async function createBuckets(client: S3Client, names: readonly string[]): Promise<void> {
  for (const name of names) {
    try {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    } catch (error) {
      // AWS answers BucketAlreadyOwnedByYou; s3rver answers BucketAlreadyExists for its own buckets too.
      const exists =
        error instanceof BucketAlreadyOwnedByYou ||
        (error instanceof S3ServiceException && error.name === 'BucketAlreadyExists');
      if (!exists) throw error;
    }
  }
}

function registerAccessKeys(keys: readonly LocalS3AccessKey[]): void {
  // A CommonJS internal of s3rver 3.x (unmaintained since 2021, so it will not move): the only way to add a key.
  const require = createRequire(import.meta.url);
  const accounts = require('s3rver/lib/models/account.js') as S3rverAccounts;
  for (const key of keys) accounts.DUMMY_ACCOUNT.createKeyPair(key.accessKeyId, key.secretAccessKey);
}
