/**
 * Every port the use cases depend on, in ONE file (the adapters implement them; tests hand in doubles where a real one
 * cannot exist). Longer than most modules on purpose: one place to read the whole outside world of the product.
 */
import type { AuditRecord } from '#domain/audit.ts';
import type { BillChannel, BillEvent } from '#domain/bill.ts';
import type { BillVerdict } from '#domain/bill-check.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import type { ChannelSecret } from '#domain/channel-fields.ts';
import type { JournalEntry } from '#domain/channel-journal.ts';
import type { BreakerConfig, BreakerState } from '#domain/circuit-breaker.ts';
import type { EventType, OutboxEvent } from '#domain/events.ts';
import type { FeeCharge, FeeSchedule } from '#domain/fees.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { DeliveryAttempt, DeliveryStatus, DeliveryTrigger, StoredEvent } from '#domain/notification.ts';
import type { Channel, ChannelPaymentResult, Payment, PaymentStatus } from '#domain/payment.ts';
import type { RatePolicy, RouteClass } from '#domain/rate-limit.ts';
import type { ReconciliationSummary } from '#domain/reconciliation.ts';
import type { ChannelRefundResult, Refund, RefundStatus } from '#domain/refund.ts';
import type { FailedStreamBatch } from '#domain/relay-redrive.ts';
import type {
  BlacklistEntry,
  BlacklistKind,
  LimitCounter,
  RiskConfig,
  RiskContext,
  RiskDecision,
  RiskSnapshot,
  RuleId,
} from '#domain/risk.ts';
import type { ActivityWrite, CounterDelta, LimitRequest } from '#domain/risk-limits.ts';
import type { Share } from '#domain/sharded-limit.ts';
import type { LedgerEntry, Wallet, WalletChange } from '#domain/wallet.ts';

/** An `Idempotency-Key` claimed together with the resource it created or changed. */
export interface IdempotencyClaim {
  merchantId: string;
  key: string;
  requestHash: string;
  resourceId: string;
}

/** What an earlier request stored under an idempotency key or natural key. */
export interface IdempotencyRecord {
  requestHash: string;
  resourceId: string;
}

/** A natural key (`order_no`, `refund_no`) claimed for the resource it identifies; it can be claimed only once. */
export interface NaturalKeyClaim {
  kind: 'order' | 'refund';
  merchantId: string;
  value: string;
  resourceId: string;
  requestHash: string;
}

/**
 * Everything that must change together, committed as ONE DynamoDB transaction. Each versioned item is written only
 * if it still has `expectedVersion` (0 = it must not exist yet); claims and ledger entries only if new.
 */
export interface ChangeSet {
  payments?: { payment: Payment; expectedVersion: number }[];
  refunds?: { refund: Refund; expectedVersion: number }[];
  walletChanges?: WalletChange[];
  events?: OutboxEvent[];
  claims?: NaturalKeyClaim[];
  idempotency?: IdempotencyClaim;
  /** Append-only audit entries of the change, committed with it. */
  audit?: AuditRecord[];
  /** A new payment's risk writes: its limit reservations (conditional) and its subjects' activity (atomic adds). */
  risk?: RiskWrites;
  /** Counters that move with a payment's transition (limits and channel volume given back, or taken again). */
  counters?: CounterDelta[];
  /**
   * A new routed payment's daily-volume reservation, confirmed by this transaction (its record removed; it must still
   * be held — one the sweep gave back fails the transaction, so the volume is never counted twice nor lost).
   */
  confirmVolume?: { paymentId: string; channel: Channel };
}

/** What the creating transaction writes for the risk engine. */
export interface RiskWrites {
  merchantId: string;
  amountMinor: number;
  currency: string;
  /** Each within its limit when it has one; a refusal is {@link LimitExceededError}, and nothing commits. */
  limits: LimitRequest[];
  activity: ActivityWrite[];
  /** A held payment joins the operators' review queue (the entry lives until the payment expires). */
  review?: { paymentId: string; createdAt: string; expiresAt: string };
}

/** A limit counter of the creating transaction would have gone over its limit: nothing was committed. */
export class LimitExceededError extends Error {
  constructor(readonly counter: LimitCounter) {
    super(`limit ${counter} exceeded`);
    this.name = 'LimitExceededError';
  }
}

/** Raised by a repository when a conditional write lost a race; the caller re-reads and decides again. */
export class StaleStateError extends Error {
  constructor(message = 'state changed concurrently', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StaleStateError';
  }
}

/** Commits change sets atomically. */
export interface TransactionStore {
  /** Throws {@link StaleStateError} if anything the change set is conditional on has changed. */
  commit(changes: ChangeSet): Promise<void>;
}

/**
 * One page of a merchant's listing, newest first. `cursor` is what a previous page returned (opaque; a malformed one is
 * `400 VALIDATION_FAILED`); `createdGte`/`createdLt` bound the creation time (ISO 8601 UTC).
 */
export interface ListQuery {
  limit: number;
  cursor?: string;
  createdGte?: string;
  createdLt?: string;
}

/**
 * Whose listing a page reads: the merchant, its own listing shard steps (GSI1; see keys.ts) and, when known, its
 * creation time (none of its items is older).
 */
export type ListingMerchant = Pick<Merchant, 'id' | 'listingShardSteps'> & Partial<Pick<Merchant, 'createdAt'>>;

/** A listing page; `nextCursor` is absent exactly when nothing older can match. */
export interface ListPage<T> {
  items: T[];
  nextCursor?: string;
}

/** Filters of `GET /v1/payments`; `status` is the status the merchant sees (`visibleStatus`), as of `now`. */
export interface PaymentFilter {
  status?: PaymentStatus;
  channel?: Channel;
  accountId?: string;
  /** `risk.decision`; a payment stored without a risk decision counts as `ALLOW` (as the API shows it). */
  riskDecision?: 'ALLOW' | 'REVIEW';
  now: Date;
}

export interface PaymentRepository {
  get(id: string): Promise<Payment | undefined>;
  /** The payment a merchant's `order_no` points to. */
  findByOrderNo(merchantId: string, orderNo: string): Promise<IdempotencyRecord | undefined>;
  /** A page of the merchant's payments, newest first. */
  list(merchant: ListingMerchant, query: ListQuery, filter: PaymentFilter): Promise<ListPage<Payment>>;
}

export interface RefundRepository {
  get(id: string): Promise<Refund | undefined>;
  /** The refund a merchant's `refund_no` points to. */
  findByRefundNo(merchantId: string, refundNo: string): Promise<IdempotencyRecord | undefined>;
  /** A page of the merchant's refunds, newest first. */
  list(
    merchant: ListingMerchant,
    query: ListQuery,
    filter: { paymentId?: string; status?: RefundStatus },
  ): Promise<ListPage<Refund>>;
}

export interface IdempotencyRepository {
  find(merchantId: string, key: string): Promise<IdempotencyRecord | undefined>;
}

/** A wallet's identity. */
export interface AccountRef {
  merchantId: string;
  accountId: string;
  currency: string;
}

/**
 * Wallets, their sub-balances (hot accounts, `src/domain/sub-balances.ts`) and their immutable ledgers; writes go
 * through {@link TransactionStore} (the payment and refund transitions).
 */
export interface WalletRepository {
  /** The account's balance: its wallet, or the sum of its sub-balances; empty (version 0) when it has none yet. */
  get(merchantId: string, accountId: string, currency: string): Promise<Wallet>;
  /**
   * How many sub-balances the account has (1 unless an operator made it hot). Readers that sum need `consistent`;
   * a movement may read an older count, which is still a valid one: counts only grow.
   */
  subBalanceCount(account: AccountRef, consistent: boolean): Promise<number>;
  /** The listed sub-balances, in that order (empty ones, version 0, for those never written). */
  subBalances(account: AccountRef, which: readonly number[]): Promise<Wallet[]>;
  /**
   * Gives the account `count` sub-balances (more than it has), with the audit entry, in one conditional write;
   * {@link StaleStateError} when the count changed since `expectedCount` was read.
   */
  setSubBalanceCount(account: AccountRef, count: number, expectedCount: number, audit: AuditRecord): Promise<void>;
  /**
   * Ledger entries newest first, merged over the account's sub-ledgers. `before` continues a previous page: per
   * sub-ledger, the sequence number below which it continues (a page of an ordinary wallet has one).
   */
  listLedger(
    merchantId: string,
    accountId: string,
    currency: string,
    limit: number,
    before?: readonly number[],
  ): Promise<{ entries: LedgerEntry[]; nextBefore?: number[] }>;
}

export interface MerchantRepository {
  get(id: string): Promise<Merchant | undefined>;
  /** Creates a merchant (with its audit entry, atomically); false if the id exists. */
  create(merchant: Merchant, audit?: AuditRecord): Promise<boolean>;
  /** Replaces a merchant conditional on its `updatedAt` still being `expectedUpdatedAt`, with its audit entry. */
  update(merchant: Merchant, expectedUpdatedAt: string, audit?: AuditRecord): Promise<void>;
}

export interface NonceStore {
  /** Records a nonce; false if it was already used and has not expired. */
  claim(merchantId: string, nonce: string, expiresAt: Date, now: Date): Promise<boolean>;
}

/** One merchant's bucket of one route class. */
export interface RateBucketKey {
  merchantId: string;
  routeClass: RouteClass;
  /** Which of the bucket's sub-buckets (0 = the unsplit bucket's item; see `subBucketCount`). */
  subBucket: number;
}

/** The fleet-wide state of the rate-limit buckets (see `src/domain/rate-limit.ts`). */
export interface RateLimitStore {
  /**
   * Takes `count` tokens from the shared bucket atomically if it holds that many at `nowUs`. `knownTat` (the last state
   * this container saw, a lower bound of the real one) picks which update to try first. Answers the bucket's `tat`
   * after the take, or as found when it held too few (undefined: never used).
   */
  take(
    key: RateBucketKey,
    request: { count: number; nowUs: number; policy: RatePolicy; knownTat?: number },
  ): Promise<{ taken: boolean; tat?: number }>;
}

/** Encrypts and decrypts merchant secrets (KMS on AWS, AES-256-GCM with a local key on one machine). */
export interface SecretCipher {
  encrypt(plaintext: string, context: Record<string, string>): Promise<string>;
  decrypt(ciphertext: string, context: Record<string, string>): Promise<string>;
}

/** What a channel answers when a payment is created there. */
export interface ChannelPrepay {
  payUrl?: string;
  qrCode?: string;
  /** Parameters the payer's client SDK needs (WeChat JSAPI: appId, timeStamp, nonceStr, package, signType, paySign). */
  clientParams?: Record<string, string>;
}

/** A verified callback: a payment result or a refund result. */
export type ChannelCallback =
  | { kind: 'payment'; result: ChannelPaymentResult }
  | { kind: 'refund'; result: ChannelRefundResult }
  /** Verified, but nothing to apply (e.g. Alipay's WAIT_BUYER_PAY): acknowledge only. */
  | { kind: 'ignored'; reason: string };

/** What a channel says when a refund is submitted: final at once (internal channels) or reported later. */
export type RefundSubmission =
  | { status: 'PROCESSING'; channelRefundNo?: string }
  | { status: 'SUCCEEDED' | 'FAILED'; channelRefundNo?: string };

/** The port every payment channel implements (sandbox, balance, Alipay, WeChat Pay). */
export interface PaymentChannel {
  readonly code: Payment['channel'];
  /** Whether this channel can take a payment with this method and currency. */
  supports(method: Payment['method'], currency: string): boolean;
  /** Registers the payment at the channel and returns how the payer pays it. */
  createPayment(payment: Payment): Promise<ChannelPrepay>;
  /** Asks the channel whether the payer paid; `undefined` while nothing is final there. */
  queryPayment(payment: Payment): Promise<ChannelPaymentResult | undefined>;
  /** Closes the order at the channel so it can no longer be paid; `paid` if it was paid first (query it). */
  closePayment(payment: Payment): Promise<'closed' | 'paid'>;
  /** Submits a refund; the outcome may be final or arrive later by callback / query. */
  refund(refund: Refund, payment: Payment): Promise<RefundSubmission>;
  /** Asks the channel for a refund's outcome; `undefined` while it is still processing. */
  queryRefund(refund: Refund): Promise<ChannelRefundResult | undefined>;
  /** Verifies a callback's signature FIRST, then parses it; throws on a forged or malformed callback. */
  verifyAndParseCallback(request: {
    headers: Record<string, string | undefined>;
    body: string;
  }): Promise<ChannelCallback>;
  /**
   * The answer the channel's protocol expects (Alipay: body `success`; WeChat Pay v3: 200/204 or a JSON failure).
   * Absent: the gateway's own JSON (`200 {"received": true}` or the error envelope), as for the sandbox.
   */
  answerCallback?(outcome: { ok: true } | { ok: false; error: unknown }): CallbackAnswer;
}

/** An HTTP answer to a channel's callback. */
export interface CallbackAnswer {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
}

/** The sparse index of payments still `PENDING`, by expiry minute. */
export interface ExpiryIndex {
  listPending(bucket: string, limit: number, cursor?: string): Promise<{ paymentIds: string[]; cursor?: string }>;
}

/** Outbox events and their delivery attempts. */
export interface EventRepository {
  get(eventId: string): Promise<StoredEvent | undefined>;
  /** A page of the merchant's events, newest first. */
  list(
    merchant: ListingMerchant,
    query: ListQuery,
    filter: { type?: EventType; deliveryStatus?: DeliveryStatus },
  ): Promise<ListPage<StoredEvent>>;
  /** One page of attempts, newest first; `cursor` continues to older ones. */
  listAttempts(
    eventId: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ attempts: DeliveryAttempt[]; cursor?: string }>;
  /** Records an attempt and, if it was acknowledged, marks the event `DELIVERED` — one transaction. */
  recordAttempt(attempt: DeliveryAttempt, delivered: boolean): Promise<void>;
  /** The retries are exhausted: `FAILED` (unless a concurrent attempt delivered it meanwhile). */
  markFailed(eventId: string, at: string): Promise<void>;
  /** Nothing to deliver to. */
  markNoEndpoint(eventId: string): Promise<void>;
  /**
   * Starts a replay's delivery run: `PENDING` with the new replay window — only if the event is still as `seen`
   * (status and window), so racing replays cannot both pass the limits. False when it moved.
   */
  claimReplay(seen: StoredEvent, window: { start: string; count: number }, audit: AuditRecord): Promise<boolean>;
}

/** Posts a signed notification to a merchant. */
export interface Notifier {
  post(
    url: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ httpStatus?: number; error?: string; latencyMs: number }>;
}

/** The egress policy as the use cases see it: why a merchant-supplied URL may not be called (resolved as of now). */
export interface NotifyUrlGuard {
  problem(url: string): Promise<string | undefined>;
}

/** The notify queue (first attempts and replays) and its dead-letter queue (events whose retries ran out). */
export interface NotificationQueues {
  enqueue(eventId: string, trigger: DeliveryTrigger): Promise<void>;
  deadLetter(event: StoredEvent): Promise<void>;
}

/** One record of the relay failure queue: a stream batch the relay gave up on, and how often it was re-driven. */
export interface RelayFailure {
  /** The batch; `undefined` when the record is not one (it is retried, then parked in the final queue for a human). */
  batch: FailedStreamBatch | undefined;
  /** Failed re-drives of this batch so far (0 on its first). */
  attempts: number;
  /** The record as received (its body is sent on unchanged). */
  body: string;
  /** The queue's handle of this receive. */
  receipt: string;
}

/** The relay failure queue as the re-drive sees it, and the final queue behind it. */
export interface RelayFailureQueue {
  /** Up to `max` records that are due now (at most 10 per call). */
  receive(max: number): Promise<RelayFailure[]>;
  /** Removes a re-driven record. */
  settle(failure: RelayFailure): Promise<void>;
  /** Puts the record back with one more failed attempt, due again after `delaySeconds` (the backoff). */
  retryLater(failure: RelayFailure, delaySeconds: number): Promise<void>;
  /** Moves the record to the final queue (alarmed): the re-drive has given up on it. */
  giveUp(failure: RelayFailure): Promise<void>;
}

/** One record of the table stream the relay reads: an inserted or modified item's new image. */
export interface StreamChange {
  kind: 'INSERT' | 'MODIFY';
  item: Record<string, unknown>;
}

/** Reads a skipped stream batch back from the table stream (retained for 24 hours). */
export interface StreamBatchReader {
  /** The batch's `INSERT` and `MODIFY` records (new images), in stream order. */
  changes(batch: FailedStreamBatch): Promise<StreamChange[]>;
}

/** The Step Functions workflows: notification retries and order-expiry timers. */
export interface Workflows {
  /** Starts the retry schedule of one event; a second start with the same name is harmless. */
  startNotifyRetry(executionName: string, input: NotifyRetryInput): Promise<void>;
  /** Arms the expiry timer of a minute bucket; `passed` if that bucket's timer already ran (close directly). */
  armExpiry(bucket: string): Promise<'armed' | 'passed'>;
}

/** Input of the `notify-retry` state machine. */
export interface NotifyRetryInput {
  eventId: string;
  index: number;
  count: number;
  mins: number[];
  maxs: number[];
}

/** Metrics the use cases emit for alarms. */
export interface AlarmMetrics {
  count(
    name:
      | 'LatePaymentSuccess'
      | 'CallbackAmountMismatch'
      | 'CallbackSignatureRejected'
      | 'CallbackSourceRejected'
      | 'RefundSubmitFailed'
      | 'NotificationFailed'
      | 'NotificationDelivered'
      | 'ExpiredPaymentPaidAtChannel'
      | 'HeldPaymentPaid'
      | 'PendingPaymentSettledBySync'
      | 'VolumeReservationSwept'
      | 'ReconciliationMissingBill'
      | 'BillDownloadFailed'
      | 'RateLimiterUnavailable'
      | 'UnsettledPastHorizon',
  ): void;
}

/**
 * The channel message journal. `record` never throws and never waits: the write runs in the background and a failure
 * is only logged, so the journal can neither block nor fail a payment; `flush` waits (bounded) for the writes still
 * running, at the end of an invocation.
 */
export interface ChannelJournal {
  record(entry: JournalEntry): void;
  flush(timeoutMs?: number): Promise<void>;
  /** A payment's entries (its refunds' included), oldest first. */
  listByPayment(paymentId: string, limit?: number): Promise<JournalEntry[]>;
}

/** Metrics of the risk engine: every decision, and every rule that fired (dimension `rule`), for dashboards. */
export interface RiskMetrics {
  decided(decision: RiskDecision, rules: readonly RuleId[]): void;
}

/** A clock, so tests can move time. */
export type Clock = () => Date;

// ── Channels: profiles, shared breakers, daily volume, secrets ──

/**
 * The circuit breakers of the channels, shared by every container (one DynamoDB item per channel). Every change is a
 * conditional write on the stored version, so concurrent containers never lose each other's outcomes.
 */
export interface ChannelHealth {
  /** The thresholds the stored states are interpreted with (the router must use the same). */
  readonly breaker: BreakerConfig;
  /** The breaker states of these channels (a channel never seen is CLOSED with no history). */
  read(channels: readonly Channel[]): Promise<Map<Channel, BreakerState>>;
  /** Records a successful call and its latency; returns the new state. */
  recordSuccess(channel: Channel, latencyMs: number, now: Date): Promise<BreakerState>;
  /** Records a failed call (network, timeout, 5xx); returns the new state. */
  recordFailure(channel: Channel, now: Date): Promise<BreakerState>;
  /** Claims the single HALF_OPEN probe; true for exactly one caller fleet-wide per probe. */
  claimProbe(channel: Channel, now: Date): Promise<boolean>;
}

/** The non-secret channel profiles (routing attributes and settings). */
export interface ChannelProfiles {
  get(channel: ChannelProfile['channel']): Promise<ChannelProfile | undefined>;
  /** Every configured profile, enabled or not. */
  list(): Promise<ChannelProfile[]>;
}

/** Identifies one daily counter: a channel, a UTC day (`yyyy-mm-dd`) and a currency. */
export interface DailyVolumeKey {
  channel: Channel;
  day: string;
  currency: string;
}

/** A daily-volume reservation made for one payment at one channel: what to give back if it is not created. */
export interface VolumeReservation {
  paymentId: string;
  key: DailyVolumeKey;
  amountMinor: number;
  /** The counter shards it was taken from (absent for an unsharded day). */
  shares?: Share[];
}

/**
 * The per-channel, per-UTC-day volume counters behind `dailyLimitMinor`. A reservation is one atomic conditional
 * increment (`total + amount <= limit`), so concurrent payments can never overshoot the limit together; it writes,
 * in the same transaction, a record of itself that the payment's creating transaction removes (confirms) — a record
 * left unconfirmed (the process died between the two) is given back by the minute timer's sweep.
 */
export interface DailyVolume {
  /**
   * Adds `amountMinor` to the day's total if it stays within `limitMinor`, for payment `paymentId`, with its record
   * (due for the sweep `RESERVATION_SWEEP_AFTER_MS` after `now`): where it was taken (`shares`: the counter
   * shards, absent for an unsharded day), or false (nothing added).
   */
  reserveDailyVolume(
    key: DailyVolumeKey,
    amountMinor: number,
    limitMinor: number,
    paymentId: string,
    now: Date,
  ): Promise<{ shares?: Share[] } | false>;
  /**
   * Gives an unconfirmed reservation back (a payment never created with it): its record removed and its shares
   * subtracted in ONE transaction, conditional on the record — so exactly once; false when it was already given back
   * or confirmed.
   */
  releaseDailyVolume(reservation: VolumeReservation): Promise<boolean>;
  /** The unconfirmed reservation behind a timer-bucket entry, with when the sweep may give it back; undefined if none. */
  unconfirmedReservation(entry: string): Promise<(VolumeReservation & { sweepAt: string }) | undefined>;
  /** The day's reserved total in minor units. */
  dailyTotal(key: DailyVolumeKey): Promise<number>;
}

/** Where a channel's secret material lives: Secrets Manager on AWS, `.local/channels/` on one machine. */
export interface ChannelSecrets {
  /**
   * The secret JSON object named by `secretRef`; throws if it does not exist. `fresh` bypasses any cache (the
   * profile's version moved, so the secret may have too).
   */
  get(secretRef: string, options?: { fresh?: boolean }): Promise<ChannelSecret>;
  /** Creates or replaces the secret; returns the `secretRef` to store on the profile. */
  put(name: string, secret: ChannelSecret): Promise<string>;
}

// ── Fees: schedules and the fees recorded per settled payment and refund ──

/** The fee schedules (`FEESCHEDULE#{scope}`), every version kept. */
export interface FeeSchedules {
  /** A scope's schedule (a merchant id or `DEFAULT`), or undefined if none was ever set. */
  get(scope: string): Promise<FeeSchedule | undefined>;
  /**
   * Stores the schedule with its new latest version, conditional on the latest stored version still being
   * `expectedVersion` (0: none yet), with its audit entry in the same transaction; `StaleStateError` otherwise.
   */
  put(schedule: FeeSchedule, expectedVersion: number, audit: AuditRecord): Promise<void>;
}

/** The fees of one settled payment or refund line, as a reconciliation run recorded them (`FEE#{gatewayId}`). */
export interface FeeRecord {
  gatewayId: string;
  kind: 'PAYMENT' | 'REFUND';
  merchantId: string;
  paymentId: string;
  currency: string;
  amountMinor: number;
  /** From the channel's bill: charged (> 0) on a payment, returned (< 0) on a refund. */
  channelFeeMinor: number;
  /** A payment's merchant fee, or what a refund returned of it (always ≥ 0; `kind` says which way). */
  merchantFee: FeeCharge;
  /** The channel-day and the run that recorded it. */
  date: string;
  channel: string;
  runId: string;
}

/** Fee records, written by reconciliation runs. */
export interface FeeRecords {
  /** Records each line's fees; a record that a later-started run already wrote is kept (conditional writes). */
  put(records: readonly FeeRecord[]): Promise<void>;
  get(gatewayId: string): Promise<FeeRecord | undefined>;
}

// ── Risk: configuration, blacklists, what a check reads, the review queue ──

/** The risk engine's storage (configuration and blacklists are operator-managed; counters move in transactions). */
export interface RiskStore {
  /** Everything the rules need for this context — config, blacklist entries, counters, activity — in ONE read. */
  snapshot(context: RiskContext): Promise<RiskSnapshot>;
  /** The gateway's configuration, or a merchant's own (undefined when it has none; the gateway's default: version 0). */
  config(merchantId?: string): Promise<RiskConfig | undefined>;
  /**
   * Stores `config` (the gateway's, or `config.merchantId`'s) as the new version if the current one is still
   * `config.version - 1`, with its audit entry; `StaleStateError` otherwise.
   */
  putConfig(config: RiskConfig, audit: AuditRecord): Promise<void>;
  /** Adds or replaces a blacklist entry, with its audit entry. */
  putBlacklist(entry: BlacklistEntry, audit: AuditRecord): Promise<void>;
  /** Removes an entry with its audit entry; false if there was none. */
  removeBlacklist(
    kind: BlacklistKind,
    value: string,
    merchantId: string | undefined,
    audit: AuditRecord,
  ): Promise<boolean>;
  listBlacklist(): Promise<BlacklistEntry[]>;
  /** Held payments waiting for an operator (entries of payments that expired drop out). */
  listReviews(now: Date): Promise<string[]>;
}

// ── Reconciliation: summaries, files, bill parsing ──

/** A run's status, as `GET /v1/reconciliations/{date}` reports it. */
export type ReconciliationStatus = 'RUNNING' | 'COMPLETED' | 'MISSING_BILL';

/** A problem with the bill itself (wrong channel/date, bad trailer…), from `BillCheck`. */
export interface ReconciliationProblem {
  code: string;
  message: string;
}

/** A repair a run made (or found made by an earlier run of the day), as listed in the run's summary. */
export interface ReconciliationRepairEntry {
  kind: 'PAYMENT' | 'REFUND';
  gatewayId: string;
  runId: string;
  at: string;
  statusBefore: string;
  statusAfter: string;
}

/**
 * The record of one run of a channel-day (table items `RECON#{date}#{channel}` / `RUN#{startedAt}#{runId}`, and the
 * latest run again under `SUMMARY`; summary.json).
 */
export interface ReconciliationRecord {
  date: string;
  channel: BillChannel;
  /** This run (`run_…`); every run keeps its own reports under `reports/{date}/{channel}/runs/{runId}/`. */
  runId: string;
  status: ReconciliationStatus;
  summary: ReconciliationSummary;
  /** The business day's time zone and the instants `[from, to)` it covers. */
  timeZone: string;
  window: { from: string; to: string };
  /** Data lines the parser read, and lines it could not use. */
  lines: number;
  errors: number;
  problems: ReconciliationProblem[];
  /** The day's repairs (at most 100 listed), with the run that made each: this one or an earlier one. */
  repairs: ReconciliationRepairEntry[];
  /**
   * Why a `MISSING_BILL` run had no usable bill: none under the key, or one that is not this channel-day's; or why a
   * `COMPLETED` run reconciled nothing: no bill and no settled record of the channel-day either (a day without trades).
   */
  details?: { reason: 'NO_BILL' | 'WRONG_BILL' | 'NO_ACTIVITY' };
  startedAt: string;
  completedAt?: string;
}

/** Run records and the batched local reads a run makes (DynamoDB: `DynamoReconciliationRepository`). */
export interface ReconciliationStore {
  /** Stores a run's record, and as the channel-day's latest unless a later-started run is already recorded. */
  putRun(record: ReconciliationRecord): Promise<void>;
  /** The latest run of a channel-day, or the named one; `undefined` if there is none. */
  getRun(date: string, channel: string, runId?: string): Promise<ReconciliationRecord | undefined>;
  /** The runs of a channel-day, newest first (at most `limit`). */
  listRuns(date: string, channel: string, limit: number): Promise<ReconciliationRecord[]>;
  /** Payments and refunds by gateway id, in batches (not one read per line). */
  getMany(ids: readonly string[]): Promise<Map<string, Payment | Refund>>;
  /** Settled payments and completed refunds of a channel's business day (GSI2), within `[from, to)`. */
  settledOn(channel: string, day: string, from: string, to: string): AsyncIterable<Payment | Refund>;
}

/** Bill and report files (S3: `S3Files`). */
export interface ReconciliationFiles {
  openBill(key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  putReport(key: string, body: string | Uint8Array, contentType: string): Promise<void>;
}

/**
 * Reads channel bills: the streaming parser of a channel's layout, a sniffer that names a layout from its head, the
 * whole-bill check (is this the channel's bill of that business day?), and the unpacking of a bill archive.
 */
export interface BillReader {
  parse(channel: BillChannel, source: AsyncIterable<Uint8Array>): AsyncIterable<BillEvent>;
  sniff(head: Uint8Array): BillChannel | undefined;
  inspect(channel: BillChannel, source: AsyncIterable<Uint8Array>, date: string, zone: string): Promise<BillVerdict>;
  /** The trade-detail CSV inside a bill archive (Alipay's `.csv.zip`); `undefined` if there is none. */
  unzip(archive: Uint8Array): Uint8Array | undefined;
}

/** Bill files (S3 `BILLS_BUCKET`: `S3Files`). */
export interface BillFiles {
  openBill(key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  headBill(key: string): Promise<{ size: number } | undefined>;
  putBill(key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
}

/** A channel's bill as downloaded: the CSV, or an archive that holds it (Alipay's `.csv.zip`). */
export type DownloadedBill =
  | { status: 'READY'; bytes: Uint8Array; archive: boolean }
  | { status: 'NOT_READY'; reason: string };

/**
 * Downloads a channel's bill of a business day: Alipay and WeChat Pay through their signed clients, the sandbox from
 * its own records. `NOT_READY` while the channel has not published it yet (ask again later).
 */
export interface BillSource {
  download(date: string): Promise<DownloadedBill>;
}
