import type { Notifier } from '#app/ports.ts';

/** The contract's acknowledgement window: a merchant has 10 s to answer 2xx. */
export const NOTIFY_TIMEOUT_MS = 10_000;

/** POSTs notifications with `fetch`; a timeout or transport failure is an outcome, not an exception. */
export class HttpNotifier implements Notifier {
  constructor(private readonly timeoutMs = NOTIFY_TIMEOUT_MS) {}

  async post(url: string, body: string, headers: Record<string, string>) {
    const started = performance.now();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      return { httpStatus: response.status, latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      const reason = error instanceof Error ? (error.name === 'TimeoutError' ? 'timeout' : error.message) : 'error';
      return { error: reason.slice(0, 200), latencyMs: Math.round(performance.now() - started) };
    }
  }
}
