import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { NotifyRetryInput, Workflows } from '#app/ports.ts';
import { bucketDeadline } from '#domain/notification.ts';
import { requireSetting } from '#shared/config.ts';

/**
 * Step Functions Standard workflows (endpoint from `AWS_ENDPOINT_URL_SFN` locally). Executions are named after what
 * they are for — the event, the expiry minute — so starting one twice is harmless, and cost stays at one execution
 * per failed notification and one per busy minute, not one per order.
 */
export class SfnWorkflows implements Workflows {
  private readonly arming = new Map<string, Promise<'armed' | 'passed'>>();

  constructor(
    private readonly arns: { notifyRetry?: string; orderExpiry?: string },
    private readonly sfn = new SFNClient({}),
  ) {}

  async startNotifyRetry(executionName: string, input: NotifyRetryInput): Promise<void> {
    await this.start(requireSetting(this.arns.notifyRetry, 'NOTIFY_RETRY_STATE_MACHINE_ARN'), executionName, input);
  }

  async armExpiry(bucket: string): Promise<'armed' | 'passed'> {
    // One start per bucket per container is enough (the name makes further starts no-ops anyway); a start in flight
    // is shared, so a relay batch full of one minute's orders makes a single call.
    if (this.arming.size > 5000) this.arming.clear(); // a long-lived container: forgetting only costs a repeat start
    let arming = this.arming.get(bucket);
    if (!arming) {
      arming = this.start(
        requireSetting(this.arns.orderExpiry, 'ORDER_EXPIRY_STATE_MACHINE_ARN'),
        `expiry-${bucket.replaceAll(':', '-')}`,
        // `cursor: ''` because the state machine passes `$.cursor` on, and a missing path would fail the execution.
        { bucket, wakeAt: bucketDeadline(bucket), cursor: '' },
      ).then((outcome) => (outcome === 'started' ? 'armed' : 'passed'));
      this.arming.set(bucket, arming);
      arming.then(
        (outcome) => outcome === 'passed' && this.arming.delete(bucket),
        () => this.arming.delete(bucket),
      );
    }
    return arming;
  }

  /**
   * Starting a running execution again with the same name and input succeeds (idempotent); a name already used by a
   * FINISHED execution, or with other input, raises ExecutionAlreadyExists: `exists`.
   */
  private async start(stateMachineArn: string, name: string, input: unknown): Promise<'started' | 'exists'> {
    try {
      await this.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      return 'started';
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return 'exists';
      throw error;
    }
  }
}
