import { App } from 'aws-cdk-lib';
import { GatewayApiStack } from '../lib/api-stack.ts';
import { GatewayDataStack } from '../lib/data-stack.ts';

// Two stacks, stateful and stateless: the API stack can be destroyed and redeployed freely while the data stack (table,
// keys, secret — all retained) stays put. Both are environment-agnostic, so `cdk synth` needs no credentials or lookups;
// `cdk deploy` takes the account and region from the caller's AWS profile.
const app = new App();
const data = new GatewayDataStack(app, 'PayGatewayData', {
  description: 'pay-gateway stateful resources: table, KMS keys, channel secret',
});
new GatewayApiStack(app, 'PayGatewayApi', {
  description: 'pay-gateway stateless resources: HTTP API and Lambda functions',
  data,
});
