import { businessDayOf, type SettlementTimeZones, settlementTimeZones } from '#domain/business-day.ts';
import { expiryBucket } from '#domain/expiry.ts';
import {
  DEFAULT_LISTING_SHARDS,
  type ListingShardStep,
  listingShardsAt,
  MERCHANT_LISTING_SHARDS_SINCE,
} from '#domain/listing-shards.ts';
import { shardOf } from '#domain/shard.ts';
import { type ShardStep, shardCount } from '#domain/sharded-limit.ts';

/**
 * Every DynamoDB key of the single table is built here and nowhere else. Each variable part goes through
 * {@link part}, so no value — a merchant id, an order number, an `Idempotency-Key` — can forge another tenant's key.
 */
export interface Key {
  PK: string;
  SK: string;
}

/**
 * One key component, encoded so it cannot contain the `#` separator: `%` → `%25`, `#` → `%23`. The encoding is
 * injective and leaves every id the gateway generates (and every value the API's schemas allow) unchanged, so two
 * distinct tuples of parts never join to the same key.
 */
export function part(value: string): string {
  return value.replaceAll('%', '%25').replaceAll('#', '%23');
}

export const keys = {
  merchant: (merchantId: string): Key => ({ PK: `MERCHANT#${part(merchantId)}`, SK: 'PROFILE' }),
  orderGuard: (merchantId: string, orderNo: string): Key => ({
    PK: `MERCHANT#${part(merchantId)}#ORDER#${part(orderNo)}`,
    SK: 'GUARD',
  }),
  payment: (paymentId: string): Key => ({ PK: `PAYMENT#${part(paymentId)}`, SK: 'PAYMENT' }),
  /** Refunds are read by id alone (`GET /v1/refunds/{id}`), so they get their own partition. */
  refund: (refundId: string): Key => ({ PK: `REFUND#${part(refundId)}`, SK: 'REFUND' }),
  refundGuard: (merchantId: string, refundNo: string): Key => ({
    PK: `MERCHANT#${part(merchantId)}#REFUND#${part(refundNo)}`,
    SK: 'GUARD',
  }),
  /** One channel message journal entry, in its payment's partition (refunds' messages included), by time. */
  journalEntry: (paymentId: string, at: string, entryId: string): Key => ({
    PK: `JOURNAL#${part(paymentId)}`,
    SK: `${at}#${part(entryId)}`,
  }),
  /** The sandbox channel's own record of a refund it was asked to make (the simulated channel's storage). */
  sandboxRefund: (refundId: string): Key => ({ PK: `SANDBOX#REFUND#${part(refundId)}`, SK: 'SANDBOX' }),
  /** A wallet, or one sub-balance of a hot account's wallet (0, the default, is the wallet every account has). */
  wallet: (merchantId: string, accountId: string, currency: string, subBalance = 0): Key => ({
    PK: walletPartition(merchantId, accountId, currency, subBalance),
    SK: 'BALANCE',
  }),
  /** A ledger entry, in the partition of the (sub-)balance it changed. */
  ledgerEntry: (merchantId: string, accountId: string, currency: string, seq: number, subBalance = 0): Key => ({
    PK: walletPartition(merchantId, accountId, currency, subBalance),
    SK: ledgerSort(seq),
  }),
  /** How many sub-balances an account has (absent: 1), in a partition of its own (every credit reads it). */
  subBalanceCount: (merchantId: string, accountId: string, currency: string): Key => ({
    PK: `${walletPartition(merchantId, accountId, currency)}#HOT`,
    SK: 'SUB_BALANCES',
  }),
  event: (eventId: string): Key => ({ PK: `EVENT#${part(eventId)}`, SK: 'EVENT' }),
  eventAttempt: (eventId: string, at: string): Key => ({
    PK: `EVENT#${part(eventId)}`,
    SK: `ATTEMPT#${at}#${Math.random().toString(36).slice(2, 10)}`,
  }),
  /** The sandbox channel's own record of a payment (decided on its cashier page, or closed). */
  sandboxPayment: (paymentId: string): Key => ({ PK: `SANDBOX#PAYMENT#${part(paymentId)}`, SK: 'SANDBOX' }),
  nonce: (merchantId: string, nonce: string): Key => ({ PK: `NONCE#${part(merchantId)}#${part(nonce)}`, SK: 'NONCE' }),
  idempotency: (merchantId: string, key: string): Key => ({ PK: `IDEM#${part(merchantId)}#${part(key)}`, SK: 'IDEM' }),
  /** A merchant's rate-limit bucket of one route class (`write` | `read`): one small item, updated in place. */
  rateBucket: (merchantId: string, routeClass: string, subBucket = 0): Key => ({
    PK: `RATE#${part(merchantId)}#${part(routeClass)}${subBucket === 0 ? '' : `#${subBucket}`}`,
    SK: 'BUCKET',
  }),
  /** A fee schedule with all its versions: a merchant's (`scope` = merchant id) or the `DEFAULT` one. */
  feeSchedule: (scope: string): Key => ({ PK: `FEESCHEDULE#${part(scope)}`, SK: 'SCHEDULE' }),
  /** The fees a reconciliation run recorded for one settled payment or refund. */
  feeRecord: (gatewayId: string): Key => ({ PK: `FEE#${part(gatewayId)}`, SK: 'FEE' }),
  /** A channel-day's latest reconciliation run (the summary the API answers with by default). */
  reconciliation: (date: string, channel: string): Key => ({
    PK: reconciliationPartition(date, channel),
    SK: 'SUMMARY',
  }),
  /** One run of a channel-day; run ids start with their UTC start time, so the runs sort oldest first. */
  reconciliationRun: (date: string, channel: string, runId: string): Key => ({
    PK: reconciliationPartition(date, channel),
    SK: `${RUN_PREFIX}${part(runId)}`,
  }),
};

/** The partition of a channel-day's reconciliation runs. */
export function reconciliationPartition(date: string, channel: string): string {
  return `RECON#${part(date)}#${part(channel)}`;
}

export const RUN_PREFIX = 'RUN#';

/**
 * Audit entries of a UTC day are spread over this many partitions (a hot day must not make one hot key): every payment
 * writes one (2 WCU, in its transaction), so 100,000 payments/s need ~1,000 partitions at 50 % (bench section 11). It
 * was 8: growing it keeps every older entry readable, since `hash % 8` is one of the shards `0 … 1023` readers query.
 * Never shrink it.
 */
export const AUDIT_SHARDS = 1024;

/** The partition of a day's audit shard; readers query every shard of the day. */
export function auditPartition(day: string, shard: number): string {
  return `AUDIT#${part(day)}#${shard}`;
}

/** An audit entry's key: its day and a shard derived from its id, sorted by time within the shard. */
export function auditKey(record: { id: string; at: string }): Key {
  return {
    PK: auditPartition(record.at.slice(0, 10), shardOf(record.id, AUDIT_SHARDS)),
    SK: `${record.at}#${part(record.id)}`,
  };
}

/** Write shards of each hot index key, over time. */
export type ShardPlan = Readonly<Record<'merchantListing' | 'settlementDay' | 'expiryMinute', readonly ShardStep[]>>;

/** Keys dated before this day were written unsharded (shard count 1: the key format from before sharding). */
export const SHARDED_SINCE = '2026-12-01';

/**
 * GSI3 keys of expiry minutes from this day on are sharded. An item's due minute is at most a day after it is written
 * (the longest `expire_in_seconds`; status syncs are due within the hour), so every function must run this plan a
 * full day before it: then no item of a sharded minute was written unsharded.
 */
export const EXPIRY_SHARDED_SINCE = '2026-12-04';

/**
 * How many write shards each hot index key has, over time (docs/scaling.md has the math behind the counts). A key's
 * count is the one in effect at the key's own date — a GSI1 item's creation time, GSI2's business day, GSI3's expiry
 * minute — so the writers and readers of a day or minute always agree, and a new count never moves an item.
 * To grow a count, APPEND a step starting on a future day that every function runs the new plan before; never edit a
 * past step. A count of 1 is the unsharded key.
 */
export const SHARD_PLAN: ShardPlan = {
  // 256 from 2026-12-03 (bench section 11: with transactions' 2× units, 128 took the largest merchant to ~73 %).
  // Items created from MERCHANT_LISTING_SHARDS_SINCE on ignore this plan: each merchant has its own count
  // (merchantListingRegimes).
  merchantListing: [
    { from: '0000-01-01', shards: 1 },
    { from: SHARDED_SINCE, shards: 128 },
    { from: '2026-12-03', shards: 256 },
  ],
  // 512 from 2026-12-03 (bench section 11: Alipay's 60 % at 2 WCU per settlement took 128 shards to ~105 %); 1,024
  // from 2026-12-05: a payment item over 1 KB (any configured amount limit's reservation on it does that) costs 4 WCU
  // per settlement (its GSI2 entry, projection ALL, written twice in transactions), which left 512 at ~60 %.
  settlementDay: [
    { from: '0000-01-01', shards: 1 },
    { from: SHARDED_SINCE, shards: 128 },
    { from: '2026-12-03', shards: 512 },
    { from: '2026-12-05', shards: 1024 },
  ],
  // 1,024 from 2026-12-04 (bench section 11: 2 WCU per transactional index write; 512 left the minute at ~74 %);
  // 2,048 from 2026-12-05: a routed payment's daily-volume reservation record also waits in a minute bucket for its
  // sweep (6 GSI3 units per channel payment instead of 4: 1,024 left the minute at ~56 %). Capped locally by
  // EXPIRY_SHARD_CAP (see expiryShardCount).
  expiryMinute: [
    { from: '0000-01-01', shards: 1 },
    { from: EXPIRY_SHARDED_SINCE, shards: 1024 },
    { from: '2026-12-05', shards: 2048 },
  ],
};

/** The write shard of `id` under `base`: `base` itself for a count of 1, else `base#{shard}`. */
function shardedPartition(base: string, id: string, count: number): string {
  return count === 1 ? base : `${base}#${shardOf(id, count)}`;
}

/** Every partition of `base` that keys written with any of `counts` can be in (what a reader queries). */
function allShards(base: string, counts: Iterable<number>): string[] {
  const partitions = new Set<string>();
  for (const count of counts) {
    if (count === 1) partitions.add(base);
    else for (let shard = 0; shard < count; shard++) partitions.add(`${base}#${shard}`);
  }
  return [...partitions];
}

/** GSI2's partition (before sharding): a channel's settled payments and completed refunds of one business day. */
function settlementDayBase(channel: string, day: string): string {
  return `CHANNEL#${part(channel)}#${part(day)}`;
}

/** Every GSI2 shard of a channel's business day: reconciliation queries them all. */
export function settlementDayPartitions(channel: string, day: string, plan: ShardPlan = SHARD_PLAN): string[] {
  return allShards(settlementDayBase(channel, day), [shardCount(plan.settlementDay, day)]);
}

/** The GSI2 shard of one settled payment or completed refund. */
function settlementDayPartition(channel: string, day: string, id: string): string {
  return shardedPartition(settlementDayBase(channel, day), id, shardCount(SHARD_PLAN.settlementDay, day));
}

let zones: { sandbox: string | undefined; zones: SettlementTimeZones } | undefined;

/**
 * This deployment's settlement time zones: the sandbox's from `SANDBOX_SETTLEMENT_TIME_ZONE` (default
 * Asia/Shanghai). The GSI2 day of a record is its business day in its channel's zone, so every function that writes
 * payments or refunds and the reconcile function must see the same value (the stack sets it on all of them).
 */
export function deploymentTimeZones(env: NodeJS.ProcessEnv = process.env): SettlementTimeZones {
  const sandbox = env.SANDBOX_SETTLEMENT_TIME_ZONE || undefined;
  if (!zones || zones.sandbox !== sandbox) zones = { sandbox, zones: settlementTimeZones(sandbox) };
  return zones.zones;
}

/**
 * GSI2 attributes of the sandbox channel's own record of a settled payment or refund: its bill of the business day
 * (`SANDBOX#BILL#{day}`, apart from the gateway's `CHANNEL#SANDBOX#{day}`), which the sandbox publishes.
 */
export function sandboxBillIndex(at: string, id: string): { GSI2PK: string; GSI2SK: string } {
  return { GSI2PK: sandboxBillPartition(settlementDay('SANDBOX', at)), GSI2SK: `${at}#${part(id)}` };
}

/** GSI2's partition of the sandbox channel's own records of one business day. */
export function sandboxBillPartition(day: string): string {
  return `SANDBOX#BILL#${part(day)}`;
}

/** The GSI2 channel-day of a settlement instant: the business day in the channel's zone. */
function settlementDay(channel: string, at: string): string {
  const zone = deploymentTimeZones()[channel as keyof SettlementTimeZones];
  if (!zone) throw new Error(`no settlement time zone for channel ${channel}`);
  return businessDayOf(zone, at);
}

/**
 * GSI3's partition (before sharding): what one UTC minute's timer (`yyyy-mm-ddThh:mm`) must look at — payments still
 * `PENDING` that expire (or are due for a status sync) in it, and `PROCESSING` refunds due for a status sync in it.
 */
function expiryBase(minute: string): string {
  return `EXPIRY#${part(minute)}`;
}

/**
 * GSI3's shard count of a minute: the plan's, capped by `EXPIRY_SHARD_CAP` when set. The local stack and the tests set
 * it (DynamoDB Local cannot serve 1,024 queries a minute sweep beside everything else); a deployment never does, and it
 * must never change under a running deployment (its writers and readers would disagree).
 */
function expiryShardCount(minute: string, plan: ShardPlan): number {
  const cap = Number(process.env.EXPIRY_SHARD_CAP);
  const count = shardCount(plan.expiryMinute, minute);
  return Number.isSafeInteger(cap) && cap >= 1 ? Math.min(count, cap) : count;
}

/** Every GSI3 shard of an expiry minute (`yyyy-mm-ddThh:mm`): the expiry timer queries them all. */
export function expiryPartitions(minute: string, plan: ShardPlan = SHARD_PLAN): string[] {
  return allShards(expiryBase(minute), [expiryShardCount(minute, plan)]);
}

/** The GSI3 shard of one pending payment or processing refund. */
export function expiryPartition(minute: string, paymentId: string): string {
  return shardedPartition(expiryBase(minute), paymentId, expiryShardCount(minute, SHARD_PLAN));
}

/**
 * The partition of a wallet (sub-balance 0: the layout every account had before hot accounts) or of one sub-balance
 * of a hot account, with its sub-ledger.
 */
export function walletPartition(merchantId: string, accountId: string, currency: string, subBalance = 0): string {
  const wallet = `ACCOUNT#${part(merchantId)}#${part(accountId)}#${part(currency)}`;
  return subBalance === 0 ? wallet : `${wallet}#SUB#${subBalance}`;
}

export const LEDGER_PREFIX = 'LEDGER#';

/** Zero-padded so lexical order is numeric order. */
export function ledgerSort(seq: number): string {
  return `${LEDGER_PREFIX}${String(seq).padStart(12, '0')}`;
}

/** What GSI1 lists per merchant: each kind in its own partition, sorted by creation time then id. */
export type MerchantListing = 'payments' | 'refunds' | 'events';

/**
 * GSI1's partition of a merchant's payments, refunds or events. Payments keep the bare `MERCHANT#{id}` they were
 * indexed under from the start; the escaped merchant id contains no `#`, so the three never share a partition.
 */
function merchantListingBase(merchantId: string, listing: MerchantListing): string {
  const merchant = `MERCHANT#${part(merchantId)}`;
  return listing === 'payments' ? merchant : `${merchant}#${listing.toUpperCase()}`;
}

/** A span of creation times `[from, to)` (absent: unbounded) whose GSI1 items lie in `partitions`. */
export interface ListingRegime {
  readonly from?: string;
  readonly to?: string;
  readonly partitions: readonly string[];
}

/**
 * Where a merchant's payments, refunds or events can be, by creation time, NEWEST first: each step of the global plan
 * before {@link MERCHANT_LISTING_SHARDS_SINCE} (its count's partitions, the unsharded key for a count of 1), then from
 * that day on each of the merchant's own counts (`base#0 … base#{count-1}`, even for 1). An item of a regime is in one
 * of its partitions: it was written with the regime's count or, for a refund or event keyed by the count its payment
 * recorded earlier, a smaller one (counts only grow, and `shardOf(id, c) < c`). Bounds are ISO dates or instants,
 * compared as text with GSI1 sort keys (`{created_at}#{id}`).
 */
export function merchantListingRegimes(
  merchantId: string,
  listing: MerchantListing,
  steps: readonly ListingShardStep[] | undefined,
  plan: ShardPlan = SHARD_PLAN,
): ListingRegime[] {
  const base = merchantListingBase(merchantId, listing);
  const since = MERCHANT_LISTING_SHARDS_SINCE;
  const regimes: ListingRegime[] = [];
  const global = plan.merchantListing.filter((step) => step.from < since);
  global.forEach((step, index) => {
    const next = global[index + 1]?.from ?? since;
    regimes.push({ ...(index === 0 ? {} : { from: step.from }), to: next, partitions: allShards(base, [step.shards]) });
  });
  const starts = [since, ...(steps ?? []).map((step) => step.from).filter((from) => from > since)];
  starts.forEach((from, index) => {
    const count = listingShardsAt(steps, from);
    const to = starts[index + 1];
    const partitions = Array.from({ length: count }, (_, shard) => `${base}#${shard}`);
    regimes.push({ from, ...(to === undefined ? {} : { to }), partitions });
  });
  return regimes.reverse();
}

/**
 * The GSI1 shard of one listed item: by the global plan's count at its creation time before the per-merchant cutover;
 * from then on `base#{shard}` of `shards`, the count recorded on the item at its creation (absent: the default).
 */
function merchantListingPartition(
  merchantId: string,
  listing: MerchantListing,
  createdAt: string,
  id: string,
  shards: number | undefined,
): string {
  const base = merchantListingBase(merchantId, listing);
  if (createdAt < MERCHANT_LISTING_SHARDS_SINCE) {
    return shardedPartition(base, id, shardCount(SHARD_PLAN.merchantListing, createdAt));
  }
  return `${base}#${shardOf(id, shards ?? DEFAULT_LISTING_SHARDS)}`;
}

/** GSI1's sort key: creation time, then id (unique, and ordered like the listing pages). */
function listingSort(createdAt: string, id: string): string {
  return `${createdAt}#${part(id)}`;
}

/** Index attributes of a payment (GSI1 listing, GSI2 business day of `paidAt`, GSI3 sparse expiry bucket). */
export const paymentIndexes = {
  byMerchant: (merchantId: string, createdAt: string, paymentId: string, shards: number | undefined) => ({
    GSI1PK: merchantListingPartition(merchantId, 'payments', createdAt, paymentId, shards),
    GSI1SK: listingSort(createdAt, paymentId),
  }),
  bySettlementDay: (channel: string, paidAt: string, paymentId: string) => ({
    GSI2PK: settlementDayPartition(channel, settlementDay(channel, paidAt), paymentId),
    GSI2SK: `${paidAt}#${part(paymentId)}`,
  }),
  byExpiryMinute: (dueAt: string, paymentId: string) => ({
    GSI3PK: expiryPartition(expiryBucket(dueAt), paymentId),
    GSI3SK: paymentId,
  }),
};

/** GSI3 of an unconfirmed daily-volume reservation's record: in the minute its sweep is due (removed with it). */
export const volumeReservationIndexes = {
  bySweepMinute: (sweepAt: string, entry: string) => ({
    GSI3PK: expiryPartition(expiryBucket(sweepAt), entry),
    GSI3SK: entry,
  }),
};

/**
 * Index attributes of a refund: GSI1 (the merchant's refunds), GSI2 beside its channel's payments of the business day
 * it completed (reconciliation).
 */
export const refundIndexes = {
  /** GSI3, sparse: only while `PROCESSING`, in the minute its status sync is due. */
  bySyncMinute: (syncAt: string, refundId: string) => ({
    GSI3PK: expiryPartition(expiryBucket(syncAt), refundId),
    GSI3SK: refundId,
  }),
  byMerchant: (merchantId: string, createdAt: string, refundId: string, shards: number | undefined) => ({
    GSI1PK: merchantListingPartition(merchantId, 'refunds', createdAt, refundId, shards),
    GSI1SK: listingSort(createdAt, refundId),
  }),
  bySettlementDay: (channel: string, completedAt: string, refundId: string) => ({
    GSI2PK: settlementDayPartition(channel, settlementDay(channel, completedAt), refundId),
    GSI2SK: `${completedAt}#${part(refundId)}`,
  }),
};

/** Index attributes of an outbox event: GSI1, the merchant's events (the attempts beside it carry none). */
export const eventIndexes = {
  byMerchant: (merchantId: string, createdAt: string, eventId: string, shards: number | undefined) => ({
    GSI1PK: merchantListingPartition(merchantId, 'events', createdAt, eventId, shards),
    GSI1SK: listingSort(createdAt, eventId),
  }),
};

/**
 * Keys of the risk engine's items: its configuration (current + every version), the blacklist (one partition; IP
 * addresses and ranges in one item, so one read matches an IP against every CIDR), subjects' activity, limit counters
 * per period, and the review queue of held payments.
 */
export const riskKeys = {
  /** The gateway's configuration, or a merchant's own. */
  config: (merchantId?: string): Key => ({ PK: configPartition(merchantId), SK: 'CURRENT' }),
  configVersion: (version: number, merchantId?: string): Key => ({
    PK: configPartition(merchantId),
    SK: `V#${String(version).padStart(9, '0')}`,
  }),
  blacklist: (kind: string, value: string, merchantId?: string): Key => ({
    PK: BLACKLIST_PARTITION,
    SK: merchantId === undefined ? `${part(kind)}#${part(value)}` : `${part(kind)}#${part(merchantId)}#${part(value)}`,
  }),
  ipBlacklist: (): Key => ({ PK: BLACKLIST_PARTITION, SK: 'IP_RANGES' }),
  /** A number every blacklist change adds one to, in its transaction: containers reload their copy when it moved. */
  blacklistVersion: (): Key => ({ PK: BLACKLIST_PARTITION, SK: 'VERSION' }),
  payerActivity: (merchantId: string, accountId: string): Key => ({
    PK: payerPartition(merchantId, accountId),
    SK: 'ACTIVITY',
  }),
  subjectActivity: (subject: 'device' | 'ip', value: string): Key => ({
    PK: `RISK#${subject.toUpperCase()}#${part(value)}`,
    SK: 'ACTIVITY',
  }),
  payerCounter: (merchantId: string, accountId: string, period: string): Key => ({
    PK: payerPartition(merchantId, accountId),
    SK: `LIMIT#${part(period)}`,
  }),
  /** The merchant-day counter: the one unsharded counter, or counter `shard` of a sharded day (its own partition). */
  merchantCounter: (merchantId: string, period: string, shard?: number): Key => ({
    PK: `RISK#MERCHANT#${part(merchantId)}${shard === undefined ? '' : `#${shard}`}`,
    SK: `LIMIT#${part(period)}`,
  }),
  review: (createdAt: string, paymentId: string): Key => ({
    PK: REVIEW_PARTITION,
    SK: `${createdAt}#${part(paymentId)}`,
  }),
};

export const BLACKLIST_PARTITION = 'RISK#BLACKLIST';
export const REVIEW_PARTITION = 'RISK#REVIEW';

function configPartition(merchantId: string | undefined): string {
  return merchantId === undefined ? 'RISK#CONFIG' : `RISK#CONFIG#${part(merchantId)}`;
}

function payerPartition(merchantId: string, accountId: string): string {
  return `RISK#PAYER#${part(merchantId)}#${part(accountId)}`;
}
