import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { gatewayPropsFromContext } from '../lib/gateway-context.ts';
import { GatewayStack } from '../lib/gateway-stack.ts';

// Environment-agnostic: `cdk synth` needs no credentials and does no lookups; `cdk deploy` takes the account and
// region from the caller's AWS profile.
const app = new App();
new GatewayStack(app, 'PayGateway', {
  description:
    'pay-gateway: HTTP API, Lambda functions, DynamoDB table, notification queues, workflows, KMS keys, sandbox secret',
  projectRoot: fileURLToPath(new URL('..', import.meta.url)),
  ...gatewayPropsFromContext(app),
});
