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
// Local functions' 30 s limit is a speed bound: on a busy machine it turned racing requests into 500s.
process.env.LOCAL_FUNCTION_TIMEOUT_MS = '600000';
// Tests that are not about rate limits must never meet one, however fast the machine: generous defaults (the rate
// limit tests set their merchants' own buckets).
process.env.RATE_LIMIT_WRITE_RATE = '1000';
process.env.RATE_LIMIT_WRITE_BURST = '2000';
process.env.RATE_LIMIT_READ_RATE = '1000';
process.env.RATE_LIMIT_READ_BURST = '2000';
