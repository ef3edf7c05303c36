import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { NotifyRetryInput, Workflows } from '#app/ports.ts';
import { bucketDeadline } from '#domain/expiry.ts';
import { requireSetting } from '#shared/config.ts';

/**
 * Starts a named execution of a state machine: `exists` where Step Functions answers ExecutionAlreadyExists. Starting
 * a RUNNING execution again with the same name and input succeeds (idempotent); a name already used by a FINISHED
 * execution, or with other input, is `exists`.
 */
export type StartExecution = (stateMachineArn: string, name: string, input: unknown) => Promise<'started' | 'exists'>;

/** {@link StartExecution} on Step Functions (endpoint from `AWS_ENDPOINT_URL_SFN` when set). */
export function startSfnExecution(sfn = new SFNClient({})): StartExecution {
  return async (stateMachineArn, name, input) => {
    try {
      await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      return 'started';
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return 'exists';
      throw error;
    }
  };
}

/**
 * Step Functions Standard workflows (endpoint from `AWS_ENDPOINT_URL_SFN` locally). Executions are named after what
 * they are for — the event, the expiry minute — so starting one twice is harmless, and cost stays at one execution
 * per failed notification and one per busy minute, not one per order. The local stack hands in a `start` that runs
 * the same state machines in process.
 */
export class SfnWorkflows implements Workflows {
  private readonly arming = new Map<string, Promise<'armed' | 'passed'>>();

  constructor(
    private readonly arns: { notifyRetry?: string; orderExpiry?: string },
    private readonly start: StartExecution = startSfnExecution(),
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
}
