import type { OutboxEvent } from '#domain/events.ts';
import type { Merchant } from '#domain/merchant.ts';
import type { ChannelPaymentResult, Payment } from '#domain/payment.ts';
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

/** Outcome of an atomic create: either it was created, or the natural key or idempotency key already existed. */
export type CreateOutcome = { created: true } | { created: false };

/**
 * One atomic change of a payment: its new state (written only if it still has `expectedVersion`), plus everything
 * that must change with it.
 */
export interface PaymentTransition {
  payment: Payment;
  expectedVersion: number;
  walletChanges: WalletChange[];
  events: OutboxEvent[];
  idempotency?: IdempotencyClaim;
}

/** Raised by a repository when a conditional write lost a race; the caller re-reads and decides again. */
export class StaleStateError extends Error {
  constructor(message = 'state changed concurrently', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StaleStateError';
  }
}

export interface PaymentRepository {
  /** Creates the payment, its `(merchant, order_no)` guard and the optional idempotency claim in one transaction. */
  create(payment: Payment, idempotency?: IdempotencyClaim): Promise<CreateOutcome>;
  get(id: string): Promise<Payment | undefined>;
  /** The payment a merchant's `order_no` points to. */
  findByOrderNo(merchantId: string, orderNo: string): Promise<IdempotencyRecord | undefined>;
  /** Commits a transition atomically; throws {@link StaleStateError} if anything it is conditional on changed. */
  commitTransition(transition: PaymentTransition): Promise<void>;
}

export interface IdempotencyRepository {
  find(merchantId: string, key: string): Promise<IdempotencyRecord | undefined>;
}

export interface WalletRepository {
  /** The wallet, or an empty one (version 0) when the account has none yet. */
  get(merchantId: string, accountId: string, currency: string): Promise<Wallet>;
  /** Ledger entries newest first; `beforeSeq` continues a previous page. */
  listLedger(
    merchantId: string,
    accountId: string,
    currency: string,
    limit: number,
    beforeSeq?: number,
  ): Promise<{ entries: LedgerEntry[]; nextBeforeSeq?: number }>;
}

export interface MerchantRepository {
  get(id: string): Promise<Merchant | undefined>;
  /** Creates a merchant; false if the id exists. */
  create(merchant: Merchant): Promise<boolean>;
  /** Replaces a merchant conditional on its `updatedAt` still being `expectedUpdatedAt`. */
  update(merchant: Merchant, expectedUpdatedAt: string): Promise<void>;
}

export interface NonceStore {
  /** Records a nonce; false if it was already used and has not expired. */
  claim(merchantId: string, nonce: string, expiresAt: Date, now: Date): Promise<boolean>;
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
}

/** The port every payment channel implements (sandbox, balance, Alipay, WeChat Pay). */
export interface PaymentChannel {
  readonly code: Payment['channel'];
  /** Whether this channel can take a payment with this method and currency. */
  supports(method: Payment['method'], currency: string): boolean;
  /** Registers the payment at the channel and returns how the payer pays it. */
  createPayment(payment: Payment): Promise<ChannelPrepay>;
  /** Verifies a callback's signature FIRST, then parses it; throws on a forged or malformed callback. */
  verifyAndParseCallback(request: {
    headers: Record<string, string | undefined>;
    body: string;
  }): Promise<ChannelPaymentResult>;
}

/** Metrics the use cases emit for alarms. */
export interface AlarmMetrics {
  count(name: 'LatePaymentSuccess' | 'CallbackAmountMismatch' | 'CallbackSignatureRejected'): void;
}

/** A clock, so tests can move time. */
export type Clock = () => Date;
