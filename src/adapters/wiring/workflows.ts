import type { Workflows } from '#app/ports.ts';
import type { GatewayConfig } from '#shared/config.ts';
import { SfnWorkflows } from '../aws/sfn-workflows.ts';
import { type HostOverrides, hostOverrides } from './host.ts';

/** The notify-retry and order-expiry state machines (Step Functions), or the host's in-process ones. */
export function workflowParts(config: GatewayConfig, overrides: HostOverrides = hostOverrides()) {
  const workflows: Workflows =
    overrides.workflows ??
    new SfnWorkflows({
      notifyRetry: config.notifyRetryStateMachineArn,
      orderExpiry: config.orderExpiryStateMachineArn,
    });
  return { workflows };
}
