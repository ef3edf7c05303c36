import type { App } from 'aws-cdk-lib';
import type { GatewayStackProps } from './gateway-stack.ts';
import { notifyRetrySettings } from './worker-settings.ts';

/**
 * The stack's deployment choices from the CDK context (`cdk deploy -c key=value` or `cdk.json`), read in one place so
 * the app and the CDK tests build the same stack from the same flags.
 */
export function gatewayPropsFromContext(app: App): Omit<GatewayStackProps, 'projectRoot'> {
  const context = (key: string): unknown => app.node.tryGetContext(key);
  const alarmEmail = context('alarmEmail');
  return {
    // The sandbox channel pays with free test money: only a test environment turns it on (`-c sandbox=true`).
    sandboxEnabled: context('sandbox') === 'true' || context('sandbox') === true,
    // Configuration, not code: `-c notifyRetrySchedule=1,5,30` shortens the retries (e.g. for a test environment).
    notifyRetry: notifyRetrySettings(context('notifyRetrySchedule')),
    // The merchants (finance) that may read the gateway-wide reconciliation reports: `-c financeMerchantIds=m_1,m_2`.
    financeMerchantIds: String(context('financeMerchantIds') ?? ''),
    // Who is e-mailed the alarms: `-c alarmEmail=ops@example.com` (nobody by default; subscribe to the topic).
    ...(typeof alarmEmail === 'string' && alarmEmail ? { alarmEmail } : {}),
  };
}
