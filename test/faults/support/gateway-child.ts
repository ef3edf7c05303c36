import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type Fault, type FromGateway, faultLine, type ToGateway } from './faults.ts';
import type { ExpiryCounts } from './timers.ts';

/** Generous: a cold start loads the SDK and every handler, on a machine shared with other work. */
const START_TIMEOUT_MS = 90_000;
/** The last lines of the process's stderr kept for a failure message. */
const KEPT_LINES = 200;

/** How a gateway process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The gateway as a child process (the bundle of `gateway-process.ts`) that a test can arm with a fault, kill with
 * SIGKILL and start again on the same port, like a Lambda environment dying mid-invocation and a fresh one taking over.
 */
export class GatewayChild {
  private child?: ChildProcess;
  private exit?: Promise<Exit>;
  private lines: string[] = [];
  /** How many processes were started, and how many died by SIGKILL. */
  readonly stats = { starts: 0, kills: 0 };

  constructor(
    private readonly bundle: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Starts a process and resolves once it serves the API and consumes its stream and queue. */
  async start(): Promise<void> {
    if (this.child) throw new Error('the gateway process is already running');
    const child = spawn(process.execPath, [this.bundle], {
      env: this.env,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child = child;
    this.stats.starts += 1;
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.lines.push(...text.split('\n').filter(Boolean));
      this.lines.splice(0, Math.max(0, this.lines.length - KEPT_LINES));
    });
    this.exit = once(child, 'exit').then(([code, signal]) => {
      if (signal === 'SIGKILL') this.stats.kills += 1;
      if (this.child === child) this.child = undefined;
      return { code, signal } as Exit;
    });
    const ready = this.next((message) => message.type === 'ready');
    const outcome = await Promise.race([
      ready,
      this.exit.then((exit) => ({ exit })),
      new Promise((done) => setTimeout(done, START_TIMEOUT_MS).unref()).then(() => ({ timeout: true })),
    ]);
    if (!outcome || 'exit' in outcome || 'timeout' in outcome) {
      child.kill('SIGKILL');
      throw new Error(`the gateway process did not start (${JSON.stringify(outcome)}):\n${this.output()}`);
    }
  }

  /** Arms a fault in the running process; resolves once it is armed. */
  async arm(fault: Fault): Promise<void> {
    const armed = this.next((message) => message.type === 'armed');
    this.send({ type: 'arm', fault });
    await armed;
  }

  /**
   * Has the running process run the minute timers' task over `buckets` with a clock `aheadMs` ahead; resolves with
   * what it did per bucket; rejects if the run fails or the process dies first.
   */
  async expire(buckets: string[], aheadMs: number): Promise<ExpiryCounts[]> {
    const exit = this.exited();
    const done = this.next((message) => message.type === 'expired' || message.type === 'expire-failed');
    this.send({ type: 'expire', buckets, aheadMs });
    const outcome = await Promise.race([done, exit]);
    if (!('type' in outcome) || outcome.type !== 'expired') {
      throw new Error(`the expiry run did not finish: ${JSON.stringify(outcome)}\n${this.output()}`);
    }
    return outcome.counts;
  }

  /**
   * Waits for the running process to die and checks it died of `fault` (its line on stderr, then SIGKILL), so a test
   * cannot pass because its fault never fired.
   */
  async crashedAt(fault: Fault): Promise<void> {
    const exit = await this.exited();
    if (exit.signal !== 'SIGKILL' || !this.lines.includes(faultLine(fault))) {
      throw new Error(`expected a crash at ${faultLine(fault)}, got ${JSON.stringify(exit)}:\n${this.output()}`);
    }
  }

  /** SIGKILLs the running process from outside (e.g. while it waits for a merchant's answer). */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** Resolves when the last started process has exited. */
  async exited(): Promise<Exit> {
    if (!this.exit) throw new Error('no gateway process was started');
    return this.exit;
  }

  /** Starts a fresh process after the previous one died. */
  async restart(): Promise<void> {
    await this.exited();
    await this.start();
  }

  /** Kills the running process, if any, and waits for it to exit. */
  async stop(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGKILL');
    await this.exited();
  }

  /** The last lines the processes wrote to stderr (handler and poller errors, fault lines). */
  output(): string {
    return this.lines.join('\n');
  }

  private send(message: ToGateway): void {
    if (!this.child?.send) throw new Error('the gateway process is not running');
    this.child.send(message);
  }

  private next(accept: (message: FromGateway) => boolean): Promise<FromGateway> {
    const child = this.child;
    if (!child) throw new Error('the gateway process is not running');
    return new Promise((done) => {
      const listener = (message: FromGateway) => {
        if (!accept(message)) return;
        child.off('message', listener);
        done(message);
      };
      child.on('message', listener);
    });
  }
}
