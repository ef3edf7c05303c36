import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local.ts';
import { createQueues, startLocalSqs } from '../../local/sqs.ts';
import { createGatewayTable } from '../../local/tables.ts';
import { TEST_TABLE } from './constants.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * Starts DynamoDB Local and local SQS ONCE per test run, creates the table (with its stream) from the shared
 * definition and the default queues. Step Functions is not started here: its task handlers run in the worker that
 * owns them, so each test file that needs it starts its own (see `local-workflows.ts`).
 */
export default async function setup(project: TestProject) {
  const [dynamo, sqs] = await Promise.all([startDynamoDbLocal(), startLocalSqs()]);
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
  } catch (error) {
    await Promise.all([dynamo.stop(), sqs.stop()]);
    throw error;
  }
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('sqsEndpoint', sqs.endpoint);
  return async () => {
    await Promise.all([dynamo.stop(), sqs.stop()]);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    sqsEndpoint: string;
  }
}
