import { logger } from './observability.ts';

const hooks = new Set<() => Promise<void>>();

/**
 * Registers work to finish before an invocation ends (and Lambda may freeze the container): background writes
 * such as the channel message journal's. Each hook bounds its own wait; a failure is logged, never raised.
 */
export function atInvocationEnd(hook: () => Promise<void>): void {
  hooks.add(hook);
}

/** Runs every registered hook (the HTTP and worker handler wrappers call this once per invocation). */
export async function finishInvocation(): Promise<void> {
  await Promise.all(
    [...hooks].map((hook) =>
      hook().catch((error: unknown) => logger.warn('end-of-invocation work failed', { error: String(error) })),
    ),
  );
}
