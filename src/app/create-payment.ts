import {
  type ChangeSet,
  type IdempotencyRepository,
  LimitExceededError,
  type NotifyUrlGuard,
  type PaymentChannel,
  type PaymentRepository,
  type TransactionStore,
  type WalletRepository,
} from '#app/ports.ts';
import { auditView } from '#domain/audit.ts';
import { listingShardsAt } from '#domain/listing-shards.ts';
import { DEFAULT_MAX_AMOUNT, DEFAULT_MIN_AMOUNT, type Merchant } from '#domain/merchant.ts';
import { formatAmount, limitToMinor } from '#domain/money.ts';
import type { Channel, Payment } from '#domain/payment.ts';
import { InsufficientBalanceError } from '#domain/refund.ts';
import { asksChannelEarly, nextPaymentSyncAt } from '#domain/status-sync.ts';
import { InsufficientBalance, movements, type WalletChange } from '#domain/wallet.ts';
import { RiskRejectedError, ValidationError } from '#shared/errors.ts';
import type { IdPrefix } from '#shared/ids.ts';
import { auditRecord, merchantActor } from './audit.ts';
import { type Prepaid, prepayWithFailover, releaseReservation } from './channel-failover.ts';
import { paymentEvent } from './events.ts';
import { createOrReplay, earlierResourceId } from './idempotency-key.ts';
import { assertNotifyUrl } from './notify-url.ts';
import { type CreatePaymentBody, paymentParameters } from './payment-schemas.ts';
import { requestHash } from './request-hash.ts';
import { auditBlocked, checkRisk, type RiskDeps, type RiskOutcome, rejectedAtCommit } from './risk-check.ts';
import { type ChannelRouter, noChannelFor, type RouteDecision, routeCandidates } from './routing.ts';
import { moveWallet } from './wallet-movements.ts';

/** What the audit trail keeps of a new payment (its request's parameters, no payer-facing URLs or metadata). */
export const AUDITED_PAYMENT_FIELDS = [
  'orderNo',
  'status',
  'amountMinor',
  'currency',
  'channel',
  'method',
  'accountId',
  'payerAccountId',
] as const;

export interface CreatePaymentDeps extends RiskDeps {
  /** Health-, limit- and weight-aware routing for payments that name no channel. */
  router: ChannelRouter;
  store: TransactionStore;
  payments: PaymentRepository;
  wallets: WalletRepository;
  idempotency: IdempotencyRepository;
  /** The egress policy applied to `notify_url` once its name is resolved (the schema checked its form). */
  notifyUrls: NotifyUrlGuard;
  channels: ReadonlyMap<Channel, PaymentChannel>;
  clock: () => Date;
  newId: (prefix: IdPrefix) => string;
  /** When a payment registered at its channel is first asked about there (status sync), ms after its creation. */
  paymentSyncAfterMs: number;
}

export interface CreatePaymentResult {
  payment: Payment;
  /** True when an earlier identical request created it (answer 200 + `Idempotent-Replayed: true`). */
  replayed: boolean;
}

/**
 * Creates a payment, idempotently.
 *
 * Input: the authenticated merchant, the validated body, an optional `Idempotency-Key`.
 * Output: the payment, and whether this was a replay.
 * 1. Check the amount against the merchant's limits and the `notify_url` against the egress policy.
 * 2. If the idempotency key or `(merchant, order_no)` is known: same parameters → replay; different → 409.
 * 3. Risk check ({@link checkRisk}, one batched read): BLOCK → `403 RISK_REJECTED`, nothing created or reserved.
 * 4. Ask the channel how the payer pays (pay URL / QR code); a routed payment whose channel is down moves to the
 *    next candidate ({@link prepayWithFailover}). A REVIEW payment is held instead: routed (its channel's volume
 *    reserved) but not registered at the channel, so nothing can pay it until an operator approves it.
 * 5. ONE transaction: payment + order guard + idempotency claim + the risk limits (conditional counters) and
 *    activity + the confirmation of its channel's daily-volume reservation (a routed one); for `BALANCE` also the
 *    payer's debit (and the recipient's credit), so it settles `SUCCEEDED` at once or not at all
 *    (`402 INSUFFICIENT_BALANCE`). A limit a racing payment used up → `403 RISK_REJECTED`.
 * 6. A lost race, or a refusal the winner's own effect caused (its debit of the payer), replays the committed
 *    winner ({@link createOrReplay}); a wallet that moved without one is read again.
 * 7. A `403 RISK_REJECTED` that stands (not replayed) leaves ONE `risk.blocked` audit record ({@link auditBlocked}).
 */
export async function createPayment(
  deps: CreatePaymentDeps,
  merchant: Merchant,
  body: CreatePaymentBody,
  idempotencyKey?: string,
  clientIp?: string,
): Promise<CreatePaymentResult> {
  assertWithinLimits(merchant, body);
  if (body.channel === 'BALANCE' || body.method === 'BALANCE') assertBalancePayment(body);
  if (body.notify_url) await assertNotifyUrl(deps.notifyUrls, body.notify_url);
  // The REQUESTED channel is hashed, not the routed one: routing is weighted-random, and a replay must still match.
  const hash = requestHash(paymentParameters(body, body.channel ?? 'AUTO'));
  try {
    return await createNewOrReplay(deps, merchant, body, hash, idempotencyKey, clientIp);
  } catch (error) {
    if (error instanceof RiskRejectedError) {
      const attempt = { orderNo: body.order_no, amountMinor: body.amountMinor, currency: body.currency };
      await auditBlocked(deps, merchant.id, { ...attempt, channel: body.channel ?? 'AUTO' }, error);
    }
    throw error;
  }
}

/** Steps 2–6. */
function createNewOrReplay(
  deps: CreatePaymentDeps,
  merchant: Merchant,
  body: CreatePaymentBody,
  hash: string,
  idempotencyKey: string | undefined,
  clientIp: string | undefined,
): Promise<CreatePaymentResult> {
  return createOrReplay(
    () => findEarlier(deps, merchant.id, body.order_no, hash, idempotencyKey),
    async () => {
      const now = deps.clock();
      const checked = await checkRisk(
        deps,
        merchant,
        { ...body, payerAccountId: body.payer_account_id ?? body.account_id ?? undefined },
        { ip: body.payer_ip ?? clientIp, deviceId: body.device_id ?? undefined },
        now,
      );
      // Routed only for a new payment: a replay reserves no daily volume and claims no breaker probe.
      const id = deps.newId('pay');
      const request = { ...body, testMode: merchant.mode === 'test', paymentId: id };
      const route = await routeCandidates({ ...deps.router, clock: () => now }, request);
      const draftFor = (channel: PaymentChannel) => newPayment(merchant, body, id, channel, hash, now);
      const prepaid =
        checked?.risk.decision === 'REVIEW'
          ? await hold(route, request, draftFor)
          : await prepayWithFailover(deps, route, request, draftFor);
      try {
        return await commitNew(deps, merchant, body, prepaid, hash, idempotencyKey, now, checked);
      } catch (error) {
        await releaseReservation(deps.router, prepaid.reservation);
        if (error instanceof LimitExceededError) throw rejectedAtCommit(deps, error, checked?.risk.score ?? 0);
        throw error;
      }
    },
  );
}

/**
 * Step 4 for a REVIEW payment: the first candidate that can take it (its daily volume reserved), without calling
 * the channel — the order is registered there only when an operator approves it.
 */
async function hold(
  route: Awaited<ReturnType<typeof routeCandidates>>,
  request: Parameters<typeof noChannelFor>[0],
  draftFor: (channel: PaymentChannel) => Payment,
): Promise<Prepaid> {
  const decision: RouteDecision | undefined = await route.next();
  if (!decision) throw noChannelFor(request);
  const { channel, reservation } = decision;
  return { draft: draftFor(channel), prepay: {}, channel, ...(reservation ? { reservation } : {}) };
}

/** Step 5: the payment the channel took, with its order guard, idempotency claim and risk writes, in ONE transaction. */
async function commitNew(
  deps: CreatePaymentDeps,
  merchant: Merchant,
  body: CreatePaymentBody,
  { draft, prepay, channel, reservation }: Prepaid,
  hash: string,
  idempotencyKey: string | undefined,
  now: Date,
  checked: RiskOutcome | undefined,
): Promise<CreatePaymentResult> {
  const held = checked?.risk.decision === 'REVIEW';
  const pending: Payment = {
    ...draft,
    payUrl: prepay.payUrl,
    qrCode: prepay.qrCode,
    clientParams: prepay.clientParams,
    ...(checked ? { risk: held ? { ...checked.risk, review: { status: 'PENDING' } } : checked.risk } : {}),
    ...(reservation
      ? {
          channelVolume: {
            day: reservation.key.day,
            amountMinor: reservation.amountMinor,
            ...(reservation.shares ? { shares: reservation.shares } : {}),
          },
        }
      : {}),
  };
  // Its first status sync: only a payment registered at its channel is asked there before its expiry.
  const syncAt = asksChannelEarly(pending)
    ? nextPaymentSyncAt(pending.expiresAt, now, deps.paymentSyncAfterMs, 0)
    : undefined;
  if (syncAt) pending.syncAt = syncAt;
  const { payment, changes } =
    channel.code === 'BALANCE' && !held
      ? await settleFromBalance(deps, pending, now)
      : { payment: pending, changes: {} };
  await deps.store.commit({
    ...changes,
    ...(checked
      ? {
          risk: {
            ...checked.writes,
            ...(held
              ? { review: { paymentId: payment.id, createdAt: payment.createdAt, expiresAt: payment.expiresAt } }
              : {}),
          },
        }
      : {}),
    audit: [
      auditRecord(deps, {
        actor: merchantActor(merchant.id),
        action: 'payment.created',
        merchantId: merchant.id,
        resource: { type: 'payment', id: payment.id },
        after: auditView(payment, AUDITED_PAYMENT_FIELDS),
      }),
    ],
    payments: [{ payment, expectedVersion: 0 }],
    // The channel's daily volume reserved for it is confirmed here (its record removed), or the commit fails.
    ...(reservation ? { confirmVolume: { paymentId: payment.id, channel: reservation.key.channel } } : {}),
    claims: [
      { kind: 'order', merchantId: merchant.id, value: body.order_no, resourceId: payment.id, requestHash: hash },
    ],
    idempotency: idempotencyKey
      ? { merchantId: merchant.id, key: idempotencyKey, requestHash: hash, resourceId: payment.id }
      : undefined,
  });
  return { payment, replayed: false };
}

function newPayment(
  merchant: Merchant,
  body: CreatePaymentBody,
  id: string,
  channel: PaymentChannel,
  hash: string,
  now: Date,
): Payment {
  return {
    id,
    merchantId: merchant.id,
    orderNo: body.order_no,
    status: 'PENDING',
    amountMinor: body.amountMinor,
    currency: body.currency,
    subject: body.subject,
    description: body.description ?? undefined,
    channel: channel.code,
    method: body.method ?? (channel.code === 'BALANCE' ? 'BALANCE' : 'QR'),
    accountId: body.account_id ?? undefined,
    payerAccountId: body.payer_account_id ?? undefined,
    notifyUrl: body.notify_url ?? merchant.notifyUrl,
    returnUrl: body.return_url ?? undefined,
    metadata: body.metadata,
    refundedMinor: 0,
    refundingMinor: 0,
    late: false,
    expiresAt: new Date(now.getTime() + body.expire_in_seconds * 1000).toISOString(),
    createdAt: now.toISOString(),
    listingShards: listingShardsAt(merchant.listingShardSteps, now.toISOString()),
    updatedAt: now.toISOString(),
    requestHash: hash,
    version: 1,
  };
}

/** The payer's debit (and the recipient's credit for a balance-funded recharge) with the payment succeeded. */
export async function settleFromBalance(
  deps: Pick<CreatePaymentDeps, 'wallets' | 'newId'>,
  pending: Payment,
  now: Date,
): Promise<{ payment: Payment; changes: ChangeSet }> {
  const at = now.toISOString();
  const payment: Payment = { ...pending, status: 'SUCCEEDED', paidAt: at, channelTradeNo: pending.id };
  const account = (accountId: string) => ({ merchantId: payment.merchantId, accountId, currency: payment.currency });
  const walletChanges: WalletChange[] = [];
  try {
    const debit = movements.debit(payment.amountMinor, payment.id);
    walletChanges.push(...(await moveWallet(deps, account(payment.payerAccountId ?? ''), debit, payment.id, at)));
  } catch (error) {
    if (!(error instanceof InsufficientBalance)) throw error;
    throw new InsufficientBalanceError(402, {
      account_id: error.wallet.accountId,
      available: formatAmount(error.wallet.availableMinor, error.wallet.currency),
      required: formatAmount(payment.amountMinor, payment.currency),
    });
  }
  if (payment.accountId) {
    const credit = movements.credit(payment.amountMinor, payment.id);
    walletChanges.push(...(await moveWallet(deps, account(payment.accountId), credit, payment.id, at)));
  }
  const event = paymentEvent(deps.newId('evt'), 'payment.succeeded', payment, now);
  return { payment, changes: { walletChanges, events: [event] } };
}

function assertBalancePayment(body: CreatePaymentBody): void {
  if (!body.payer_account_id) {
    throw new ValidationError('VALIDATION_FAILED', 'payer_account_id: required for channel BALANCE');
  }
  if (body.payer_account_id === body.account_id) {
    throw new ValidationError('VALIDATION_FAILED', 'account_id: a wallet cannot pay its own recharge');
  }
}

async function findEarlier(
  deps: CreatePaymentDeps,
  merchantId: string,
  orderNo: string,
  hash: string,
  idempotencyKey: string | undefined,
): Promise<CreatePaymentResult | undefined> {
  const paymentId = await earlierResourceId(
    deps.idempotency,
    merchantId,
    idempotencyKey,
    deps.payments.findByOrderNo(merchantId, orderNo),
    hash,
    { order_no: orderNo },
  );
  if (!paymentId) return undefined;
  const payment = await deps.payments.get(paymentId);
  // Keys are tenant-safe by construction (`keys.ts`); the owner is checked anyway before anything is replayed.
  if (payment?.merchantId !== merchantId) throw new Error(`guard of ${merchantId} points to a foreign ${paymentId}`);
  return { payment, replayed: true };
}

function assertWithinLimits(merchant: Merchant, body: CreatePaymentBody): void {
  const min = limitToMinor(merchant.minAmount ?? DEFAULT_MIN_AMOUNT, body.currency, 'up');
  const max = limitToMinor(merchant.maxAmount ?? DEFAULT_MAX_AMOUNT, body.currency, 'down');
  if (body.amountMinor < min || body.amountMinor > max) {
    throw new ValidationError(
      'AMOUNT_INVALID',
      `amount must be between ${formatAmount(min, body.currency)} and ${formatAmount(max, body.currency)}`,
      { min: formatAmount(min, body.currency), max: formatAmount(max, body.currency) },
    );
  }
}
