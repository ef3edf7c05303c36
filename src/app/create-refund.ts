import type {
  IdempotencyRepository,
  PaymentChannel,
  PaymentRepository,
  RefundRepository,
  TransactionStore,
  WalletRepository,
} from '#app/ports.ts';
import { StaleStateError } from '#app/ports.ts';
import { auditView } from '#domain/audit.ts';
import { listingShardsAt } from '#domain/listing-shards.ts';
import type { Merchant } from '#domain/merchant.ts';
import { formatAmount, parseAmount } from '#domain/money.ts';
import type { Channel, Payment } from '#domain/payment.ts';
import {
  assertBalanceRefundAllowed,
  assertRefundable,
  InsufficientBalanceError,
  type Refund,
  refundAtOnce,
  reserveRefund,
} from '#domain/refund.ts';
import { InsufficientBalance, movements } from '#domain/wallet.ts';
import type { IdPrefix } from '#shared/ids.ts';
import { logger } from '#shared/observability.ts';
import { type ApplyRefundDeps, applyRefundResult } from './apply-refund-result.ts';
import { auditRecord, merchantActor } from './audit.ts';
import { refundEvent } from './events.ts';
import { createOrReplay, earlierResourceId } from './idempotency-key.ts';
import { getPayment } from './payment-queries.ts';
import type { CreateRefundBody } from './refund-schemas.ts';
import { requestHash } from './request-hash.ts';
import { type ChannelRouter, isGuarded, withBreaker } from './routing.ts';
import { moveWallet } from './wallet-movements.ts';

export interface CreateRefundDeps extends ApplyRefundDeps {
  store: TransactionStore;
  payments: PaymentRepository;
  refunds: RefundRepository;
  wallets: WalletRepository;
  idempotency: IdempotencyRepository;
  channels: ReadonlyMap<Channel, PaymentChannel>;
  /** The shared circuit breakers: an external channel's refund call counts toward its health like a payment's. */
  router: ChannelRouter;
  clock: () => Date;
  newId: (prefix: IdPrefix) => string;
}

/**
 * Refunds (part of) a payment — to the `ORIGINAL` destination: the Try step of TCC, then the channel; to `BALANCE`:
 * a wallet credit settled at once ({@link refundToBalance}).
 *
 * 1. Read the merchant's payment; parse the amount in its currency; replay a known `refund_no`/`Idempotency-Key`.
 * 2. Refundable? (`409 INVALID_STATE`), within what is left? (`409 REFUND_EXCEEDS_PAYMENT`); to `BALANCE` only if the
 *    payment credited no wallet (`409 REFUND_DESTINATION_NOT_ALLOWED`).
 * 3. `BALANCE`: ONE transaction settles it (see {@link refundToBalance}); done. `ORIGINAL`: ONE transaction: refund `PROCESSING` + refund-no guard + payment's processing sum (conditional on its version)
 *    + for a recharge, the frozen amount in the wallet (`409 INSUFFICIENT_BALANCE` if it is no longer there).
 *    A refusal the winner of a duplicate caused (it used the refundable amount) replays that winner instead.
 * 4. Submit to the channel. A final answer (balance channel) is applied at once (Confirm/Cancel); otherwise the
 *    result arrives by callback or query. A failed submission leaves the refund `PROCESSING`, never lost.
 */
export async function createRefund(
  deps: CreateRefundDeps,
  merchant: Merchant,
  body: CreateRefundBody,
  idempotencyKey?: string,
): Promise<{ refund: Refund; replayed: boolean }> {
  let read: Payment | undefined = await getPayment(deps, merchant, body.payment_id);
  const amountMinor = parseAmount(body.amount, read.currency).minor;
  const hash = requestHash({
    operation: 'refund.create',
    payment_id: body.payment_id,
    refund_no: body.refund_no,
    amount_minor: amountMinor,
    reason: body.reason ?? undefined,
    // Only a BALANCE refund adds fields, so ORIGINAL requests hash as they did before destinations existed.
    ...(body.destination === 'BALANCE' ? { destination: body.destination, account_id: body.account_id } : {}),
  });
  const outcome = await createOrReplay(
    () => findEarlier(deps, merchant.id, body.refund_no, hash, idempotencyKey),
    async () => {
      // The first attempt decides from the read above; a retry (a lost race) from a fresh one.
      const payment = read ?? (await getPayment(deps, merchant, body.payment_id));
      read = undefined;
      return commitNewRefund(deps, merchant, body, payment, amountMinor, hash, idempotencyKey);
    },
  );
  if (outcome.replayed) return { refund: await completeIfFinalAtOnce(deps, outcome.refund), replayed: true };
  if (outcome.refund.status !== 'PROCESSING') return { refund: outcome.refund, replayed: false };
  return { refund: await submitToChannel(deps, outcome.refund, outcome.payment), replayed: false };
}

/** A new refund of `payment`, as every destination records it. */
function newRefund(
  deps: CreateRefundDeps,
  merchant: Merchant,
  body: CreateRefundBody,
  payment: Payment,
  amountMinor: number,
  hash: string,
): Refund {
  const at = deps.clock().toISOString();
  return {
    id: deps.newId('ref'),
    merchantId: merchant.id,
    paymentId: payment.id,
    refundNo: body.refund_no,
    amountMinor,
    currency: payment.currency,
    reason: body.reason ?? undefined,
    status: 'PROCESSING',
    channel: payment.channel,
    destination: body.destination ?? 'ORIGINAL',
    ...(body.account_id ? { accountId: body.account_id } : {}),
    createdAt: at,
    listingShards: listingShardsAt(merchant.listingShardSteps, at),
    updatedAt: at,
    requestHash: hash,
    version: 1,
  };
}

/** The claims that make a refund request idempotent, committed with the refund. */
function claimsOf(merchant: Merchant, body: CreateRefundBody, refund: Refund, idempotencyKey: string | undefined) {
  return {
    claims: [
      {
        kind: 'refund' as const,
        merchantId: merchant.id,
        value: body.refund_no,
        resourceId: refund.id,
        requestHash: refund.requestHash,
      },
    ],
    idempotency: idempotencyKey
      ? { merchantId: merchant.id, key: idempotencyKey, requestHash: refund.requestHash, resourceId: refund.id }
      : undefined,
  };
}

function createdAudit(deps: CreateRefundDeps, merchant: Merchant, payment: Payment, refund: Refund) {
  return auditRecord(deps, {
    actor: merchantActor(merchant.id),
    action: 'refund.created',
    merchantId: merchant.id,
    resource: { type: 'refund', id: refund.id },
    before: { payment_id: payment.id, payment_status: payment.status, refunded_minor: payment.refundedMinor },
    after: auditView(refund, [
      'refundNo',
      'paymentId',
      'amountMinor',
      'currency',
      'status',
      'reason',
      'destination',
      'accountId',
    ]),
  });
}

/**
 * Creates the refund in ONE transaction with its claims and audit entry; the destination decides the rest:
 * - `ORIGINAL` (the Try step): the refund `PROCESSING`, the amount reserved on the payment (and frozen in a recharged
 *   wallet) until the channel answers.
 * - `BALANCE`: settled at once, never sent to the channel: the refund `SUCCEEDED`, the payment's refunded sum, the
 *   wallet credit with its `REFUND` ledger entry (conditional on the wallet version) and the `refund.succeeded` event.
 * The payment is written conditional on its version either way, so refunds of either destination racing for one
 * payment can never exceed it.
 */
async function commitNewRefund(
  deps: CreateRefundDeps,
  merchant: Merchant,
  body: CreateRefundBody,
  payment: Payment,
  amountMinor: number,
  hash: string,
  idempotencyKey: string | undefined,
): Promise<{ refund: Refund; replayed: false; payment: Payment }> {
  assertRefundable(payment, amountMinor);
  const created = newRefund(deps, merchant, body, payment, amountMinor, hash);
  const { refund, ...changes } =
    body.destination === 'BALANCE'
      ? await toBalance(deps, body, payment, created)
      : {
          refund: created,
          payments: [
            { payment: reserveRefund(payment, amountMinor, created.createdAt), expectedVersion: payment.version },
          ],
          walletChanges: await freezeIfRecharge(deps, payment, created, created.createdAt),
        };
  await deps.store.commit({
    audit: [createdAudit(deps, merchant, payment, refund)],
    refunds: [{ refund, expectedVersion: 0 }],
    ...changes,
    ...claimsOf(merchant, body, refund, idempotencyKey),
  });
  return { refund, replayed: false, payment };
}

/** What a `BALANCE` refund changes besides its own record: see {@link commitNewRefund}. */
async function toBalance(deps: CreateRefundDeps, body: CreateRefundBody, payment: Payment, created: Refund) {
  assertBalanceRefundAllowed(payment);
  const accountId = body.account_id;
  if (!accountId) throw new Error('the schema requires account_id with destination BALANCE');
  const at = created.createdAt;
  const refund: Refund = { ...created, status: 'SUCCEEDED', completedAt: at };
  const ref = { paymentId: payment.id, refundId: refund.id };
  const account = { merchantId: payment.merchantId, accountId, currency: payment.currency };
  const credit = movements.creditRefund(refund.amountMinor, ref);
  return {
    refund,
    payments: [{ payment: refundAtOnce(payment, refund.amountMinor, at), expectedVersion: payment.version }],
    walletChanges: await moveWallet(deps, account, credit, refund.id, at),
    events: [refundEvent(deps.newId('evt'), 'refund.succeeded', refund, payment, new Date(at))],
  };
}

/**
 * A balance refund is final the moment it exists, so a replay must not show it `PROCESSING`: whoever finds it
 * unsettled (a duplicate racing its creator, or a retry after the creator died) completes it. Applying a result is
 * idempotent, so the payer is credited exactly once however many do.
 */
async function completeIfFinalAtOnce(deps: CreateRefundDeps, refund: Refund): Promise<Refund> {
  if (refund.channel !== 'BALANCE' || refund.status !== 'PROCESSING') return refund;
  const payment = await deps.payments.get(refund.paymentId);
  if (!payment) throw new Error(`refund ${refund.id} points to a missing payment`);
  return submitToChannel(deps, refund, payment);
}

async function freezeIfRecharge(deps: CreateRefundDeps, payment: Payment, refund: Refund, at: string) {
  if (!payment.accountId) return [];
  const account = { merchantId: payment.merchantId, accountId: payment.accountId, currency: payment.currency };
  const freeze = movements.freezeForRefund(refund.amountMinor, { paymentId: payment.id, refundId: refund.id });
  try {
    return await moveWallet(deps, account, freeze, refund.id, at);
  } catch (error) {
    if (!(error instanceof InsufficientBalance)) throw error;
    // The payment and the wallet were read one after the other. If the payment moved meanwhile (a racing refund
    // took the rest), our view is torn and the right answer may be REFUND_EXCEEDS_PAYMENT: decide again.
    if ((await deps.payments.get(payment.id))?.version !== payment.version) {
      throw new StaleStateError('payment moved while the wallet was read');
    }
    throw new InsufficientBalanceError(409, {
      account_id: error.wallet.accountId,
      available: formatAmount(error.wallet.availableMinor, error.wallet.currency),
      required: formatAmount(refund.amountMinor, refund.currency),
    });
  }
}

async function submitToChannel(deps: CreateRefundDeps, refund: Refund, payment: Payment): Promise<Refund> {
  const channel = deps.channels.get(payment.channel);
  if (!channel) throw new Error(`no adapter for channel ${payment.channel}`);
  try {
    const submission = isGuarded(deps.router, channel.code)
      ? await withBreaker(channel.code, deps.router.health, () => channel.refund(refund, payment), {
          clock: deps.clock,
        })
      : await channel.refund(refund, payment);
    if (submission.status === 'PROCESSING') return refund;
    const outcome = await applyRefundResult(
      deps,
      { refundId: refund.id, status: submission.status, channelRefundNo: submission.channelRefundNo },
      channel.code,
    );
    return outcome.refund;
  } catch (error) {
    // The Try step holds the money safely; the callback, a query or a retry settles the refund later.
    logger.error('refund submission failed; refund stays PROCESSING', { refund_id: refund.id, error: String(error) });
    deps.alarms.count('RefundSubmitFailed');
    return refund;
  }
}

async function findEarlier(
  deps: CreateRefundDeps,
  merchantId: string,
  refundNo: string,
  hash: string,
  idempotencyKey: string | undefined,
): Promise<{ refund: Refund; replayed: true } | undefined> {
  const refundId = await earlierResourceId(
    deps.idempotency,
    merchantId,
    idempotencyKey,
    deps.refunds.findByRefundNo(merchantId, refundNo),
    hash,
    { refund_no: refundNo },
  );
  if (!refundId) return undefined;
  const refund = await deps.refunds.get(refundId);
  if (refund?.merchantId !== merchantId) throw new Error(`guard of ${merchantId} points to a foreign ${refundId}`);
  return { refund, replayed: true };
}
