import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  admission,
  type BreakerConfig,
  type BreakerState,
  claimProbe,
  DEFAULT_BREAKER_CONFIG,
  initialBreakerState,
  onFailure,
  onSuccess,
  successRate,
  windowTotals,
} from '#domain/circuit-breaker.ts';

const config: BreakerConfig = { ...DEFAULT_BREAKER_CONFIG };
const T0 = 1_764_000_000_000;

type Op = { kind: 'success' | 'failure' | 'claim'; dt: number; latency: number };

/** Random call outcomes and probe claims, with time moving forward by 0–40 s between them. */
const ops = fc.array(
  fc.record({
    kind: fc.constantFrom<Op['kind']>('success', 'failure', 'failure', 'failure', 'claim', 'claim'),
    dt: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 40_000 })),
    latency: fc.integer({ min: 0, max: 5_000 }),
  }),
  { minLength: 5, maxLength: 150, size: 'max' },
);

/** Applies the ops, calling `check` with the state before each op and what the op did. */
function run(
  sequence: readonly Op[],
  check: (before: BreakerState, now: number, op: Op, after: BreakerState, claimed: boolean) => void = () => {},
): { state: BreakerState; now: number } {
  let state = initialBreakerState();
  let now = T0;
  for (const op of sequence) {
    now += op.dt;
    let next: BreakerState;
    let claimed = false;
    if (op.kind === 'success') next = onSuccess(state, now, op.latency, config);
    else if (op.kind === 'failure') next = onFailure(state, now, config);
    else ({ claimed, state: next } = claimProbe(state, now, config));
    check(state, now, op, next, claimed);
    state = next;
  }
  return { state, now };
}

function failures(state: BreakerState, now: number, count: number, step = 0): BreakerState {
  let current = state;
  for (let i = 0; i < count; i++) current = onFailure(current, now + i * step, config);
  return current;
}

describe('circuit breaker (examples)', () => {
  it('opens after N consecutive failures and admits nothing during the cool-down', () => {
    const open = failures(initialBreakerState(), T0, config.failureThreshold);
    expect(open.status).toBe('OPEN');
    expect(admission(open, T0 + config.coolDownMs - 1, config)).toBe('DENY');
    expect(admission(open, T0 + config.coolDownMs + 10, config)).toBe('PROBE');
  });

  it('a success between failures resets the consecutive count', () => {
    let state = failures(initialBreakerState(), T0, config.failureThreshold - 1);
    state = onSuccess(state, T0 + 100, 20, config);
    state = failures(state, T0 + 200, config.failureThreshold - 1);
    expect(state.status).toBe('CLOSED');
  });

  it('opens on a failure rate of at least 50 % over at least 20 calls in the window', () => {
    let state = initialBreakerState();
    for (let i = 0; i < 20; i++) {
      state = i % 2 === 0 ? onSuccess(state, T0 + i * 1000, 10, config) : onFailure(state, T0 + i * 1000, config);
      if (i < 19) expect(state.status).toBe('CLOSED');
    }
    expect(state.status).toBe('OPEN');
  });

  it('forgets calls older than the window', () => {
    let state = initialBreakerState();
    for (let i = 0; i < 10; i++) state = onFailure(onSuccess(state, T0, 10, config), T0, config);
    expect(windowTotals(state, T0, config)).toEqual({ calls: 20, failures: 10 });
    expect(windowTotals(state, T0 + config.windowMs + 5000, config)).toEqual({ calls: 0, failures: 0 });
    expect(successRate(state, T0 + config.windowMs + 5000, config)).toBe(1);
  });

  it('HALF_OPEN: one probe; its success closes, its failure re-opens with a new cool-down', () => {
    const open = failures(initialBreakerState(), T0, config.failureThreshold);
    const at = T0 + config.coolDownMs;
    const first = claimProbe(open, at, config);
    expect(first.claimed).toBe(true);
    expect(first.state.status).toBe('HALF_OPEN');
    expect(claimProbe(first.state, at + 1, config).claimed).toBe(false);
    expect(admission(first.state, at + 1, config)).toBe('DENY');
    const closed = onSuccess(first.state, at + 50, 40, config);
    expect(closed).toMatchObject({ status: 'CLOSED', consecutiveFailures: 0 });
    expect(windowTotals(closed, at + 50, config)).toEqual({ calls: 1, failures: 0 });
    const reopened = onFailure(first.state, at + 50, config);
    expect(reopened).toMatchObject({ status: 'OPEN', openedAt: at + 50 });
    expect(reopened.probeClaimedAt).toBeUndefined();
    expect(admission(reopened, at + 50 + config.coolDownMs - 1, config)).toBe('DENY');
  });

  it('a probe claim that never reports can be claimed again after its lease', () => {
    const open = failures(initialBreakerState(), T0, config.failureThreshold);
    const claimed = claimProbe(open, T0 + config.coolDownMs, config).state;
    expect(claimProbe(claimed, T0 + config.coolDownMs + config.probeLeaseMs - 1, config).claimed).toBe(false);
    expect(claimProbe(claimed, T0 + config.coolDownMs + config.probeLeaseMs, config).claimed).toBe(true);
  });

  it('keeps an EWMA of success latency', () => {
    let state = onSuccess(initialBreakerState(), T0, 100, config);
    expect(state.latencyMs).toBe(100);
    state = onSuccess(state, T0, 200, config);
    expect(state.latencyMs).toBeCloseTo(100 + config.latencyAlpha * 100);
  });
});

describe('circuit breaker (properties)', () => {
  it('never admits two live probes in HALF_OPEN', () => {
    fc.assert(
      fc.property(ops, (sequence) => {
        let liveClaimAt: number | undefined;
        run(sequence, (before, now, op, after, claimed) => {
          if (claimed) {
            expect(liveClaimAt === undefined || now - liveClaimAt >= config.probeLeaseMs).toBe(true);
            liveClaimAt = now;
          }
          if (after.status !== 'HALF_OPEN') liveClaimAt = undefined;
          if (before.status === 'HALF_OPEN' && op.kind === 'claim' && !claimed) expect(after).toBe(before);
        });
      }),
    );
  });

  it('OPEN never admits a call before the cool-down has passed', () => {
    fc.assert(
      fc.property(ops, (sequence) => {
        run(sequence, (before, now, _op, _after, claimed) => {
          if (before.status === 'OPEN' && now - (before.openedAt ?? 0) < config.coolDownMs) {
            expect(admission(before, now, config)).toBe('DENY');
            expect(claimed).toBe(false);
          }
        });
      }),
    );
  });

  it('a success streak always ends CLOSED once the cool-down and probe lease have passed', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 1, max: 5 }), (sequence, streak) => {
        const { state, now } = run(sequence);
        let current = state;
        const later = now + config.coolDownMs + config.probeLeaseMs;
        if (admission(current, later, config) === 'PROBE') current = claimProbe(current, later, config).state;
        for (let i = 0; i < streak; i++) current = onSuccess(current, later + i, 30, config);
        expect(current.status).toBe('CLOSED');
        expect(current.consecutiveFailures).toBe(0);
      }),
    );
  });

  it('N consecutive failures always open a CLOSED breaker; it trips only for a reason', () => {
    fc.assert(
      fc.property(ops, (sequence) => {
        run(sequence, (before, now, op, after) => {
          if (before.status === 'CLOSED' && after.status === 'OPEN') {
            const { calls, failures } = windowTotals(after, now, config);
            const byRate = calls >= config.minCalls && failures / calls >= config.failureRateThreshold;
            expect(op.kind).toBe('failure');
            expect(after.consecutiveFailures >= config.failureThreshold || byRate).toBe(true);
          }
        });
        const { state, now } = run(sequence);
        if (state.status === 'CLOSED') {
          expect(failures(state, now + 1, config.failureThreshold, 0).status).toBe('OPEN');
        }
      }),
    );
  });

  it('keeps the window bounded and its statistics in range', () => {
    fc.assert(
      fc.property(ops, (sequence) => {
        run(sequence, (_before, now, _op, after) => {
          expect(after.buckets.length).toBeLessThanOrEqual(config.bucketCount + 1);
          const rate = successRate(after, now, config);
          expect(rate).toBeGreaterThanOrEqual(0);
          expect(rate).toBeLessThanOrEqual(1);
          expect(after.latencyMs === undefined || after.latencyMs >= 0).toBe(true);
        });
      }),
    );
  });
});
