import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { GatewayStack } from '../lib/gateway-stack.ts';
import { notifyRetrySettings } from '../lib/worker-settings.ts';

// Environment-agnostic: `cdk synth` needs no credentials and does no lookups; `cdk deploy` takes the account and
// region from the caller's AWS profile.
const app = new App();
new GatewayStack(app, 'PayGateway', {
  description:
    'pay-gateway: HTTP API, Lambda functions, DynamoDB table, notification queues, workflows, KMS keys, sandbox secret',
  projectRoot: fileURLToPath(new URL('..', import.meta.url)),
  // The sandbox channel pays with free test money: only a test environment turns it on (`-c sandbox=true`).
  sandboxEnabled: app.node.tryGetContext('sandbox') === 'true' || app.node.tryGetContext('sandbox') === true,
  // Configuration, not code: `-c notifyRetrySchedule=1,5,30` shortens the retries (e.g. for a test environment).
  notifyRetry: notifyRetrySettings(app.node.tryGetContext('notifyRetrySchedule')),
  // The merchants (finance) that may read the gateway-wide reconciliation reports: `-c financeMerchantIds=m_1,m_2`.
  financeMerchantIds: String(app.node.tryGetContext('financeMerchantIds') ?? ''),
});
