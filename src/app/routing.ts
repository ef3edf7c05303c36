// Over 250 lines: the routing order, named-channel rules, candidate filtering, limits and probes must be read together.
import type { Clock, PaymentChannel } from '#app/ports.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import { DEFAULT_SCORE_CONFIG, rankCandidates, type ScoreConfig } from '#domain/channel-score.ts';
import { type Admission, admission, successRate } from '#domain/circuit-breaker.ts';
import type { Channel, PayMethod } from '#domain/payment.ts';
import { UnavailableError, ValidationError } from '#shared/errors.ts';
import type { ChannelHealth, ChannelProfiles, DailyVolume, DailyVolumeKey, VolumeReservation } from './ports.ts';

export { isChannelOutage, type WithBreakerOptions, withBreaker } from './with-breaker.ts';

/** What routing needs of a payment request. */
export interface RouteRequest {
  channel?: Channel | null;
  method?: PayMethod | null;
  currency: string;
  /** The merchant is a test-mode merchant: only then may a routed payment land on a test channel (the sandbox). */
  testMode?: boolean;
}

/** What routing needs of a new payment: its id (its volume reservation's), amount, method, currency. */
export type RoutedPayment = RouteRequest & { amountMinor: number; paymentId: string };

/**
 * The channel a merchant named: it must be enabled here (`400 CHANNEL_NOT_SUPPORTED` naming it otherwise) and support
 * the method and currency.
 */
export function namedChannel(
  channels: ReadonlyMap<Channel, PaymentChannel>,
  request: RouteRequest & { channel: Channel },
) {
  const method = methodOf(request);
  const named = channels.get(request.channel);
  if (!named) {
    throw new ValidationError('CHANNEL_NOT_SUPPORTED', `channel ${request.channel} is not enabled for this gateway`, {
      channel: request.channel,
    });
  }
  if (!named.supports(method, request.currency)) throw notSupported(request.channel, method, request.currency);
  return named;
}

/** The dependencies of health- and limit-aware routing ({@link routeChannel}). */
export interface ChannelRouter {
  channels: ReadonlyMap<Channel, PaymentChannel>;
  profiles: ChannelProfiles;
  health: ChannelHealth;
  volume: DailyVolume;
  clock: Clock;
  /** The random source of weighted tie-breaking, in [0, 1); default `Math.random`. */
  random?: () => number;
  score?: ScoreConfig;
  /** In-process channels with no breaker, limits or health reads; default SANDBOX and BALANCE. */
  unguarded?: ReadonlySet<Channel>;
}

/** The routing decision for one payment. */
export interface RouteDecision {
  channel: PaymentChannel;
  /**
   * The daily volume reserved for it; the creating transaction confirms it (`confirmVolume`), or give it back with
   * `volume.releaseDailyVolume` if the payment is not created (a sweep gives it back if neither happens).
   */
  reservation?: VolumeReservation;
}

const DEFAULT_UNGUARDED: ReadonlySet<Channel> = new Set<Channel>(['SANDBOX', 'BALANCE']);

/** Channels of free test money: routed payments of live merchants never go there (naming them is still allowed). */
const TEST_CHANNELS: ReadonlySet<Channel> = new Set<Channel>(['SANDBOX']);

interface Candidate {
  code: Channel;
  channel: PaymentChannel;
  profile?: ChannelProfile;
  weight: number;
  successRate: number;
  latencyMs?: number;
  admission: Admission;
}

/** The candidates of one payment in routing order, handed out one at a time. */
export interface Route {
  /** The merchant named the channel: it is the only candidate, and the payment is never moved off it. */
  readonly named: boolean;
  /**
   * The next candidate, its daily volume reserved and (for a probe) its probe won — so nothing is reserved or
   * claimed for a candidate never tried; `undefined` when none is left.
   */
  next(): Promise<RouteDecision | undefined>;
}

/**
 * The routing order for a new payment.
 * - Named channel: as {@link namedChannel}; an external channel (not `unguarded`) must also have a profile enabled
 *   for the method and currency (`400 CHANNEL_NOT_SUPPORTED` otherwise). Limits and the breaker are not applied: the
 *   merchant insisted, and the channel itself will answer.
 * - Otherwise the candidates are the channels that support the method and currency: the unguarded (in-process) ones
 *   as they are (weight 1; the sandbox only for a `testMode` merchant), external ones only with a profile enabled
 *   for them, the amount within `singleLimitMinor`, and a breaker that admits a call. A channel whose probe is due
 *   comes first (one payment per cool-down, so a healed channel returns); the rest follow `rankCandidates` (a
 *   weighted random draw ∝ weight × health). {@link Route.next} skips those whose daily volume cannot be reserved
 *   or whose probe another caller won.
 */
export async function routeCandidates(router: ChannelRouter, request: RoutedPayment): Promise<Route> {
  const method = methodOf(request);
  const profiles = new Map((await router.profiles.list()).map((profile) => [profile.channel as Channel, profile]));
  if (request.channel) {
    const named = namedChannel(router.channels, { ...request, channel: request.channel });
    const profile = profiles.get(named.code);
    if (!unguardedOf(router).has(named.code) && !(profile && profileTakes(profile, method, request.currency))) {
      throw notSupported(named.code, method, request.currency);
    }
    let taken = false;
    return {
      named: true,
      next: async () => {
        if (taken) return undefined;
        taken = true;
        return { channel: named };
      },
    };
  }
  const now = router.clock();
  const config = router.score ?? DEFAULT_SCORE_CONFIG;
  const candidates = await candidatesFor(router, profiles, request, method, now, config);
  const random = router.random ?? Math.random;
  const ordered = [
    ...rankCandidates(
      candidates.filter((candidate) => candidate.admission === 'PROBE'),
      random,
      config,
    ),
    ...rankCandidates(
      candidates.filter((candidate) => candidate.admission === 'ALLOW'),
      random,
      config,
    ),
  ];
  const take = async (candidate: Candidate): Promise<RouteDecision | undefined> => {
    const reservation = await reserve(router.volume, candidate, request, now);
    if (reservation === false) return undefined;
    if (candidate.admission === 'PROBE' && !(await router.health.claimProbe(candidate.code, now))) {
      if (reservation) await router.volume.releaseDailyVolume(reservation);
      return undefined;
    }
    return { channel: candidate.channel, ...(reservation ? { reservation } : {}) };
  };
  let index = 0;
  return {
    named: false,
    next: async () => {
      while (index < ordered.length) {
        const decision = await take(ordered[index++] as Candidate);
        if (decision) return decision;
      }
      return undefined;
    },
  };
}

/** The first candidate of {@link routeCandidates}; none: `503 NO_CHANNEL_AVAILABLE`. */
export async function routeChannel(router: ChannelRouter, request: RoutedPayment): Promise<RouteDecision> {
  const decision = await (await routeCandidates(router, request)).next();
  if (!decision) throw noChannelFor(request);
  return decision;
}

/** The UTC day (`yyyy-mm-dd`) a daily limit counts `at` in. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

async function candidatesFor(
  router: ChannelRouter,
  profiles: ReadonlyMap<Channel, ChannelProfile>,
  request: RoutedPayment,
  method: PayMethod,
  now: Date,
  score: ScoreConfig,
): Promise<Candidate[]> {
  const unguarded = unguardedOf(router);
  const eligible = [...router.channels.values()].filter((channel) => {
    if (!channel.supports(method, request.currency)) return false;
    if (TEST_CHANNELS.has(channel.code) && !request.testMode) return false;
    if (unguarded.has(channel.code)) return true;
    const profile = profiles.get(channel.code);
    return (
      profile !== undefined &&
      profileTakes(profile, method, request.currency) &&
      (profile.singleLimitMinor === undefined || request.amountMinor <= profile.singleLimitMinor)
    );
  });
  const guarded = eligible.map((channel) => channel.code).filter((code) => !unguarded.has(code));
  const states = guarded.length > 0 ? await router.health.read(guarded) : new Map();
  const at = now.getTime();
  return eligible
    .map((channel): Candidate => {
      const profile = unguarded.has(channel.code) ? undefined : profiles.get(channel.code);
      const state = states.get(channel.code);
      return {
        code: channel.code,
        channel,
        profile,
        weight: profile?.weight ?? 1,
        successRate: state ? successRate(state, at, router.health.breaker, score.priorCalls) : 1,
        latencyMs: state?.latencyMs,
        admission: state ? admission(state, at, router.health.breaker) : 'ALLOW',
      };
    })
    .filter((candidate) => candidate.admission !== 'DENY');
}

/** undefined: no daily limit; false: the limit would be exceeded; otherwise the reservation made. */
async function reserve(
  volume: DailyVolume,
  candidate: Candidate,
  request: { currency: string; amountMinor: number; paymentId: string },
  now: Date,
): Promise<RouteDecision['reservation'] | false> {
  const limit = candidate.profile?.dailyLimitMinor;
  if (limit === undefined) return undefined;
  const key: DailyVolumeKey = { channel: candidate.code, day: utcDay(now), currency: request.currency };
  const { amountMinor, paymentId } = request;
  const reserved = await volume.reserveDailyVolume(key, amountMinor, limit, paymentId, now);
  if (reserved === false) return false;
  return { paymentId, key, amountMinor, ...(reserved.shares ? { shares: reserved.shares } : {}) };
}

/** Whether calls to this channel go through the shared circuit breaker (in-process channels do not). */
export function isGuarded(router: ChannelRouter, code: Channel): boolean {
  return !unguardedOf(router).has(code);
}

function unguardedOf(router: ChannelRouter): ReadonlySet<Channel> {
  return router.unguarded ?? DEFAULT_UNGUARDED;
}

function profileTakes(profile: ChannelProfile, method: PayMethod, currency: string): boolean {
  return profile.enabled && profile.methods.includes(method) && profile.currencies.includes(currency);
}

function methodOf(request: RouteRequest): PayMethod {
  return request.method ?? (request.channel === 'BALANCE' ? 'BALANCE' : 'QR');
}

function notSupported(channel: Channel, method: PayMethod, currency: string): ValidationError {
  return new ValidationError('CHANNEL_NOT_SUPPORTED', `channel ${channel} does not support this payment`, {
    channel,
    method,
    currency,
  });
}

/** `503 NO_CHANNEL_AVAILABLE`: no candidate could be tried for this request. */
export function noChannelFor(request: RouteRequest): UnavailableError {
  const method = methodOf(request);
  return new UnavailableError('NO_CHANNEL_AVAILABLE', `no channel can take a ${method} payment in ${request.currency}`);
}
