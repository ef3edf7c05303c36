import type { ChannelPrepay, PaymentChannel } from '#app/ports.ts';
import type { Payment, RoutingAttempt } from '#domain/payment.ts';
import { ChannelResponseInvalidError, OUTAGE_TIMEOUT, UnavailableError } from '#shared/errors.ts';
import {
  type ChannelRouter,
  isChannelOutage,
  isGuarded,
  noChannelFor,
  type Route,
  type RouteDecision,
  type RouteRequest,
  withBreaker,
} from './routing.ts';

/**
 * How long one request may spend trying channels before it gives up: API Gateway's integration timeout is 30 s, and
 * the rest of the request (authentication, routing reads, the commit) and one last channel call must fit in the 10 s
 * left. A candidate is only started while the budget lasts.
 */
export const FAILOVER_BUDGET_MS = 20_000;

/** The channel that took a payment, with what it answered. */
export interface Prepaid {
  /** The payment as registered there (its `routingAttempts` listing the channels left before it, if any). */
  draft: Payment;
  prepay: ChannelPrepay;
  channel: PaymentChannel;
  reservation?: RouteDecision['reservation'];
}

/**
 * Registers a new payment at the first candidate of `route` that takes it.
 *
 * Input: the route and its request, and the draft payment for a channel (the same id at every channel).
 * Output: the channel that took it, its answer, the draft with the attempts before it.
 * 1. Take the next candidate (none at the start → `503 NO_CHANNEL_AVAILABLE`).
 * 2. Call its `createPayment`, an external channel through the shared breaker (which records an outage).
 * 3. On a failure of a routed payment's channel (an outage, or an answer that does not verify — both counted by the
 *    breaker): give back its daily volume; when the channel may have created the order (a timeout, or an
 *    untrusted answer) close it there first — if that fails, stop: a payable duplicate is worse than a `503`. Record
 *    the attempt and, while the budget lasts, go to 1; otherwise (or with no candidate left) throw the last failure.
 * Anything else — a refusal, a validation error, any error of a named channel — is thrown as it is. An order left
 * behind by a plain outage (5xx, network) is never payable: its QR code or prepay id never reached anyone.
 */
export async function prepayWithFailover(
  deps: { router: ChannelRouter; clock: () => Date },
  route: Route,
  request: RouteRequest,
  draftFor: (channel: PaymentChannel) => Payment,
  budgetMs = FAILOVER_BUDGET_MS,
): Promise<Prepaid> {
  const started = performance.now();
  const attempts: RoutingAttempt[] = [];
  let lastOutage: unknown;
  for (let decision = await route.next(); decision; decision = await route.next()) {
    const { channel, reservation } = decision;
    const draft = {
      ...draftFor(channel),
      ...(attempts.length > 0 ? { routingAttempts: [...attempts] } : {}),
    };
    const callStarted = performance.now();
    try {
      const prepay = isGuarded(deps.router, channel.code)
        ? await withBreaker(channel.code, deps.router.health, () => channel.createPayment(draft), {
            clock: deps.clock,
            isFailure: isChannelFailure,
          })
        : await channel.createPayment(draft);
      return { draft, prepay, channel, ...(reservation ? { reservation } : {}) };
    } catch (error) {
      await releaseReservation(deps.router, reservation);
      if (route.named || !isChannelFailure(error)) throw error;
      const latencyMs = Math.round(performance.now() - callStarted);
      const reason = error instanceof UnavailableError ? (error.reason ?? error.code) : error.code;
      if (reason === OUTAGE_TIMEOUT || error instanceof ChannelResponseInvalidError) {
        if (!(await closedThere(channel, draft))) throw error;
        attempts.push({ channel: channel.code, outcome: 'CLOSED', reason, latencyMs });
      } else {
        attempts.push({ channel: channel.code, outcome: 'OUTAGE', reason, latencyMs });
      }
      lastOutage = error;
      if (performance.now() - started >= budgetMs) throw error;
    }
  }
  throw lastOutage ?? noChannelFor(request);
}

/** A failure of the channel itself: it is down, or its answer cannot be trusted (never a refusal or bad input). */
function isChannelFailure(error: unknown): error is UnavailableError | ChannelResponseInvalidError {
  return isChannelOutage(error) || error instanceof ChannelResponseInvalidError;
}

/**
 * Gives a candidate's daily volume back; a failure to do so leaves it to the sweep (its record stays unconfirmed, and
 * the minute timer of its sweep minute gives it back — see `sweepVolumeReservation`).
 */
export async function releaseReservation(
  router: ChannelRouter,
  reservation: RouteDecision['reservation'],
): Promise<void> {
  if (reservation) await router.volume.releaseDailyVolume(reservation).catch(() => undefined);
}

/** Best effort: whether the order is closed at the channel now (it never existed, or can no longer be paid). */
async function closedThere(channel: PaymentChannel, draft: Payment): Promise<boolean> {
  try {
    return (await channel.closePayment(draft)) === 'closed';
  } catch {
    return false;
  }
}
