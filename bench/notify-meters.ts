import { performance } from 'node:perf_hooks';

/** What an AWS SDK v3 client's `send` looks like from the outside (the overloads are irrelevant here). */
type Send = (command: object, ...rest: unknown[]) => Promise<unknown>;

/** API requests one AWS SDK client class made, by operation (the command class name without `Command`). */
export class ApiCallMeter {
  readonly calls = new Map<string, number>();
  /** Distinct `name` inputs per operation (e.g. the executions StartExecution asked for). */
  readonly names = new Map<string, Set<string>>();
  /** ReceiveMessage calls that returned no message (an idle poller's), and the messages the others returned. */
  emptyReceives = 0;
  receivedMessages = 0;
  private counting = false;

  /**
   * Counts every request any instance of `clientClass` sends (the gateway's own clients included, which the bench
   * cannot reach otherwise) by wrapping its prototype's `send`. Call before the first request; counting starts with
   * {@link start}.
   */
  install(clientClass: { prototype: object }): void {
    const prototype = clientClass.prototype as { send: Send };
    const original = prototype.send;
    const meter = this;
    prototype.send = async function (this: unknown, command: object, ...rest: unknown[]) {
      const operation = command.constructor.name.replace(/Command$/, '');
      const output = await original.call(this, command, ...rest);
      if (meter.counting) meter.record(operation, command, output);
      return output;
    };
  }

  start(): void {
    this.calls.clear();
    this.names.clear();
    this.emptyReceives = 0;
    this.receivedMessages = 0;
    this.counting = true;
  }

  stop(): void {
    this.counting = false;
  }

  count(operation: string): number {
    return this.calls.get(operation) ?? 0;
  }

  /** Requests of every operation (what SQS bills; failed requests are not counted here, none are expected). */
  total(): number {
    return [...this.calls.values()].reduce((sum, n) => sum + n, 0);
  }

  private record(operation: string, command: object, output: unknown): void {
    this.calls.set(operation, this.count(operation) + 1);
    const name = (command as { input?: { name?: unknown } }).input?.name;
    if (typeof name === 'string') {
      const names = this.names.get(operation) ?? new Set<string>();
      names.add(name);
      this.names.set(operation, names);
    }
    if (operation === 'ReceiveMessage') {
      const messages = (output as { Messages?: unknown[] } | undefined)?.Messages?.length ?? 0;
      if (messages === 0) this.emptyReceives += 1;
      this.receivedMessages += messages;
    }
  }
}

/** One Lambda function's invocations as the local runtime made them. */
export interface FunctionMeter {
  name: string;
  invocations: number;
  /** Records (SQS messages, stream records) per invocation, summed; tasks count 1. */
  records: number;
  /** Wall time of each invocation, ms. */
  durationsMs: number[];
  failures: number;
}

/**
 * Counts and times the invocations of local Lambda handlers. A handler that throws, or answers a batch with
 * `batchItemFailures`, is reported to `onFailure` (the sample fails on it rather than wait for a redelivery).
 */
export class LambdaMeter {
  readonly functions = new Map<string, FunctionMeter>();
  private counting = false;

  constructor(private readonly onFailure: (error: unknown) => void = () => undefined) {}

  /** `handler` with its invocations counted (only between {@link start} and {@link stop}). */
  wrap<E, C, R>(name: string, handler: (event: E, context: C) => Promise<R>): (event: E, context: C) => Promise<R> {
    const meter = this.meterOf(name);
    return async (event, context) => {
      const counting = this.counting;
      const started = performance.now();
      try {
        const response = await handler(event, context);
        const failed = (response as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures?.length ?? 0;
        if (failed) {
          if (counting) meter.failures += failed;
          this.onFailure(new Error(`${name}: ${failed} record(s) of the batch failed`));
        }
        return response;
      } catch (error) {
        if (counting) meter.failures += 1;
        this.onFailure(error);
        throw error;
      } finally {
        if (counting) {
          meter.invocations += 1;
          const records = (event as { Records?: unknown[] } | undefined)?.Records;
          meter.records += Array.isArray(records) ? records.length : 1;
          meter.durationsMs.push(performance.now() - started);
        }
      }
    };
  }

  start(): void {
    for (const meter of this.functions.values()) {
      Object.assign(meter, { invocations: 0, records: 0, durationsMs: [], failures: 0 });
    }
    this.counting = true;
  }

  stop(): void {
    this.counting = false;
  }

  private meterOf(name: string): FunctionMeter {
    let meter = this.functions.get(name);
    if (!meter) {
      meter = { name, invocations: 0, records: 0, durationsMs: [], failures: 0 };
      this.functions.set(name, meter);
    }
    return meter;
  }
}
