import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import { createBuckets, startLocalS3 } from '../../local/s3.ts';
import { createQueues, startLocalSqs } from '../../local/sqs.ts';
import { createGatewayTable } from '../../local/tables.ts';
import { TEST_BUCKETS, TEST_TABLE } from './constants.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Starts DynamoDB Local, local SQS and local S3 ONCE per test run, creates the table (with its stream) from the shared
 * definition, the default queues and the test buckets. Step Functions is not started here: its task handlers run in
 * the worker that owns them, so each test file that needs it starts its own (see `local-workflows.ts`).
 */
export default async function setup(project: TestProject) {
  const [dynamo, sqs, s3] = await Promise.all([startDynamoDbLocal(), startLocalSqs(), startLocalS3()]);
  try {
    const client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    await createGatewayTable(client, TEST_TABLE);
    client.destroy();
    // The unsuffixed queues the worker environment points at, so code that only sends finds a queue; a file that
    // consumes creates its own (`startLocalWorkflows`), as two workers share this one server.
    const sqsClient = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
    await createQueues(sqsClient);
    sqsClient.destroy();
    // One pair of buckets for the run, shared by both workers: test files keep apart by their keys (each file its own
    // channel-days).
    const s3Client = new S3Client({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    await createBuckets(s3Client, Object.values(TEST_BUCKETS));
    s3Client.destroy();
  } catch (error) {
    await Promise.all([dynamo.stop(), sqs.stop(), s3.stop()]);
    throw error;
  }
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('sqsEndpoint', sqs.endpoint);
  project.provide('s3Endpoint', s3.endpoint);
  return async () => {
    await Promise.all([dynamo.stop(), sqs.stop(), s3.stop()]);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sqsEndpoint: string;
    s3Endpoint: string;
  }
}
