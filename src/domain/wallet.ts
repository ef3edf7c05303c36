import { addMinor } from '#domain/money.ts';

/**
 * `REFUND` (a refunded balance payment credited back to its payer) extends the contract's list; the others are the
 * contract's own.
 */
export type LedgerType = 'RECHARGE' | 'PAYMENT' | 'REFUND_FREEZE' | 'REFUND_DEDUCT' | 'REFUND_UNFREEZE' | 'REFUND';

/**
 * A wallet `(merchant, account, currency)`, or one sub-balance of a hot account's wallet (docs/scaling.md: a hot
 * account's balance is the sum of its sub-balances). `version` counts its changes and numbers its ledger entries.
 */
export interface Wallet {
  merchantId: string;
  accountId: string;
  currency: string;
  availableMinor: number;
  frozenMinor: number;
  version: number;
  updatedAt?: string;
  /** Which sub-balance this is; absent on sub-balance 0, the wallet every account has (today's layout). */
  subBalance?: number;
}

/**
 * One immutable ledger line; `seq` equals the version of the (sub-)balance it changed, so each sub-ledger's entries
 * are gap-free and ordered. `availableAfterMinor`/`frozenAfterMinor` are that sub-balance's amounts afterwards.
 */
export interface LedgerEntry {
  id: string;
  merchantId: string;
  accountId: string;
  currency: string;
  seq: number;
  /** The sub-ledger it belongs to; absent on sub-ledger 0. */
  subBalance?: number;
  type: LedgerType;
  /** Signed change of `available` and of `frozen` this entry made. */
  availableDeltaMinor: number;
  frozenDeltaMinor: number;
  /** Absolute amount the entry is about (always positive). */
  amountMinor: number;
  availableAfterMinor: number;
  frozenAfterMinor: number;
  paymentId?: string;
  refundId?: string;
  createdAt: string;
}

/** A wallet change: the wallet as it must be afterwards, and the ledger line that explains it. */
export interface WalletChange {
  wallet: Wallet;
  /** The version the wallet had when read; the write is conditional on it (0 = the wallet does not exist yet). */
  expectedVersion: number;
  entry: LedgerEntry;
}

/** An empty wallet, as an unknown account reads. */
export function emptyWallet(merchantId: string, accountId: string, currency: string): Wallet {
  return { merchantId, accountId, currency, availableMinor: 0, frozenMinor: 0, version: 0 };
}

/** One change of a wallet: what the ledger entry records (the deltas are `±amountMinor` or 0). */
export interface Movement {
  type: LedgerType;
  amountMinor: number;
  availableDeltaMinor: number;
  frozenDeltaMinor: number;
  paymentId?: string;
  refundId?: string;
}

/** Pure: applies a movement to a wallet, refusing any that would make a balance negative. */
export function applyMovement(wallet: Wallet, movement: Movement, ledgerId: string, at: string): WalletChange {
  if (!(movement.amountMinor > 0)) throw new RangeError('a wallet movement must be positive');
  const available = addMinor(wallet.availableMinor, movement.availableDeltaMinor);
  const frozen = addMinor(wallet.frozenMinor, movement.frozenDeltaMinor);
  if (available < 0 || frozen < 0) throw new InsufficientBalance(wallet, movement.amountMinor);
  const version = wallet.version + 1;
  const next: Wallet = { ...wallet, availableMinor: available, frozenMinor: frozen, version, updatedAt: at };
  const entry: LedgerEntry = {
    id: ledgerId,
    merchantId: wallet.merchantId,
    accountId: wallet.accountId,
    currency: wallet.currency,
    seq: version,
    type: movement.type,
    availableDeltaMinor: movement.availableDeltaMinor,
    frozenDeltaMinor: movement.frozenDeltaMinor,
    amountMinor: movement.amountMinor,
    availableAfterMinor: available,
    frozenAfterMinor: frozen,
    createdAt: at,
    ...(wallet.subBalance ? { subBalance: wallet.subBalance } : {}),
    ...(movement.paymentId ? { paymentId: movement.paymentId } : {}),
    ...(movement.refundId ? { refundId: movement.refundId } : {}),
  };
  return { wallet: next, expectedVersion: wallet.version, entry };
}

/** The movements the use cases make, as signed changes of `available` and `frozen`. */
export const movements = {
  /** A recharge credits `available`. */
  credit: (amountMinor: number, paymentId: string): Movement => ({
    type: 'RECHARGE',
    amountMinor,
    availableDeltaMinor: amountMinor,
    frozenDeltaMinor: 0,
    paymentId,
  }),
  /** A balance payment debits the payer's `available`. */
  debit: (amountMinor: number, paymentId: string): Movement => ({
    type: 'PAYMENT',
    amountMinor,
    availableDeltaMinor: -amountMinor,
    frozenDeltaMinor: 0,
    paymentId,
  }),
  /** TCC Try: a refund of a recharge moves the amount from `available` to `frozen`. */
  freezeForRefund: (amountMinor: number, refund: RefundRef): Movement => ({
    type: 'REFUND_FREEZE',
    amountMinor,
    availableDeltaMinor: -amountMinor,
    frozenDeltaMinor: amountMinor,
    ...refund,
  }),
  /** TCC Confirm: the channel refunded, so the frozen amount leaves the wallet. */
  deductFrozen: (amountMinor: number, refund: RefundRef): Movement => ({
    type: 'REFUND_DEDUCT',
    amountMinor,
    availableDeltaMinor: 0,
    frozenDeltaMinor: -amountMinor,
    ...refund,
  }),
  /** TCC Cancel: the channel refused, so the frozen amount returns to `available`. */
  unfreeze: (amountMinor: number, refund: RefundRef): Movement => ({
    type: 'REFUND_UNFREEZE',
    amountMinor,
    availableDeltaMinor: amountMinor,
    frozenDeltaMinor: -amountMinor,
    ...refund,
  }),
  /** A refunded balance payment credits its payer back. */
  creditRefund: (amountMinor: number, refund: RefundRef): Movement => ({
    type: 'REFUND',
    amountMinor,
    availableDeltaMinor: amountMinor,
    frozenDeltaMinor: 0,
    ...refund,
  }),
};

/** What a refund movement's ledger entry points to. */
export interface RefundRef {
  paymentId: string;
  refundId: string;
}

/** Raised by a movement the wallet cannot cover; the caller maps it to its contract code (402 or 409). */
export class InsufficientBalance extends Error {
  constructor(
    readonly wallet: Wallet,
    readonly amountMinor: number,
  ) {
    super(`wallet ${wallet.accountId} cannot cover ${amountMinor}`);
    this.name = 'InsufficientBalance';
  }
}
