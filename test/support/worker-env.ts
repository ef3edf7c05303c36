import { inject } from 'vitest';
import { configureLocalEnvironment } from '../../local/stack.ts';
import { TEST_BUCKETS, TEST_SECRETS, TEST_TABLE } from './constants.ts';

// Every test file talks to the run's DynamoDB Local, local SQS and local S3 (the test buckets); a file that serves
// HTTP sets PUBLIC_BASE_URL when it listens, and a file that runs workflows or consumes queues points the rest at its
// own (`startLocalWorkflows`).
configureLocalEnvironment({
  dynamoEndpoint: inject('dynamoEndpoint'),
  sqsEndpoint: inject('sqsEndpoint'),
  s3Endpoint: inject('s3Endpoint'),
  buckets: TEST_BUCKETS,
  publicBaseUrl: 'http://127.0.0.1:1',
  secrets: TEST_SECRETS,
  tableName: TEST_TABLE,
});
process.env.POWERTOOLS_LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'SILENT';
