import type { Container } from '#adapters/container.ts';
import type { PaymentChannel } from '#app/ports.ts';
import type { Channel } from '#domain/payment.ts';

/** A random minute decades ahead, so the buckets a test file uses hold only its own entries (the table is shared). */
export function uniqueFarMinute(): Date {
  return new Date(Date.UTC(2090, 0, 1) + Math.floor(Math.random() * 10_000_000) * 60_000);
}

/**
 * The container as the minute timer's deps, with `channel` as its SANDBOX, a clock the test sets (starting at a far
 * minute of its own) and the timers it arms recorded instead of started.
 */
export function minuteTimerDeps(container: Container, channel: PaymentChannel) {
  const armed: string[] = [];
  const clock = { now: uniqueFarMinute() };
  const channels = new Map<Channel, PaymentChannel>([...container.channels, ['SANDBOX', channel]]);
  const deps = {
    ...container,
    channels,
    router: { ...container.router, channels },
    clock: () => clock.now,
    workflows: {
      ...container.workflows,
      armExpiry: async (bucket: string) => {
        armed.push(bucket);
        return 'armed' as const;
      },
    },
  };
  return { deps, armed, clock };
}
