import { spawn } from 'node:child_process';

/**
 * Runs a bench sample in a child process of its own (its own gateway container, or its own RSS) with tsx, passing
 * its configuration in one environment variable; rejects on a non-zero exit or after `timeoutMs`, with `onTimeout`
 * saying where it was.
 */
export function runChildSample(options: {
  label: string;
  script: string;
  cwd: string;
  nodeArgs?: string[];
  env: Record<string, string>;
  timeoutMs: number;
  onTimeout?: () => string;
}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...(options.nodeArgs ?? []), options.script], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      const where = options.onTimeout ? ` (${options.onTimeout()})` : '';
      reject(new Error(`the ${options.label} did not finish within ${options.timeoutMs / 1000} s${where}`));
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`the ${options.label} failed (exit ${code ?? signal}); its error is above`));
    });
  });
}
