import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One DynamoDB client per container. The endpoint comes from the standard SDK configuration
 * (`AWS_ENDPOINT_URL_DYNAMODB`), so the same code talks to AWS, LocalStack or DynamoDB Local.
 *
 * `convertClassInstanceToMap`: the marshaller tells a plain object by `value.constructor.name === 'Object'`, so a
 * merchant's metadata `{"constructor": "x"}` (a legal string→string pair) would otherwise fail every write as a
 * "class instance". Domain items hold only plain data, so marshalling an object by its enumerable keys is always right.
 */
export function createDocumentClient(client = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}
