import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { channelKeys } from '#adapters/dynamo/channel-keys.ts';
import type { Payment } from '#domain/payment.ts';
import { eventually } from '../../support/local-workflows.ts';
import type { FaultStack } from './fault-stack.ts';
import { expireWholeBucket } from './timers.ts';

type Item = Record<string, unknown>;

/** Statuses in which a payment has been paid (and its recharge credited). */
const PAID = new Set(['SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED']);
/** Statuses in which a payment holds its channel's daily volume (`counterChanges`): open or paid. */
const HOLDS_VOLUME = new Set(['PENDING', ...PAID]);
/** How far ahead the sweep's clock runs: past every expiry and every status-sync delay the suite can create. */
const SWEEP_AHEAD_MS = 24 * 60 * 60 * 1000;

/** Every item of the stack's own table, by entity. */
async function readTable(stack: FaultStack): Promise<Map<string, Item[]>> {
  const byEntity = new Map<string, Item[]>();
  const pages = paginateScan({ client: stack.container.db }, { TableName: stack.tableName, ConsistentRead: true });
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const entity = String(item.entity);
      byEntity.set(entity, [...(byEntity.get(entity) ?? []), item]);
    }
  }
  return byEntity;
}

/**
 * The timers' work, done now instead of minutes from now: the order-expiry task (`expireBucket`, the handler the
 * minute timers run) over every minute bucket the sparse expiry index still holds, with a clock a day ahead, so every
 * order in it is due. Returns how many buckets it swept.
 */
export async function sweep(stack: FaultStack): Promise<number> {
  const later = new Date(Date.now() + SWEEP_AHEAD_MS);
  const deps = { ...stack.container, clock: () => later };
  const buckets = new Set<string>();
  for (const items of (await readTable(stack)).values()) {
    for (const item of items) {
      // GSI3PK = EXPIRY#{minute}[#{shard}]; a minute (yyyy-mm-ddThh:mm) needs no unescaping.
      if (typeof item.GSI3PK === 'string') buckets.add(item.GSI3PK.split('#')[1] ?? '');
    }
  }
  for (const bucket of buckets) await expireWholeBucket(deps, bucket);
  return buckets.size;
}

/** Waits until every outbox event is `DELIVERED` and the merchant has received each of them. */
export async function notificationsSettled(stack: FaultStack): Promise<void> {
  await eventually(
    async () => {
      const events = (await readTable(stack)).get('EVENT') ?? [];
      return events.every(
        (event) => event.deliveryStatus === 'DELIVERED' && stack.merchant.received.has(String(event.id)),
      );
    },
    { timeoutMs: 90_000, intervalMs: 200, what: 'every event delivered' },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${stack.gateway.output()}`);
  });
}

/** A trade as its channel's book holds it, by gateway payment id. */
interface ChannelTrade {
  paid: boolean;
  /** What the channel refunded (succeeded refunds). */
  refundedMinor: number;
  /** The gateway refund ids of the channel's succeeded refunds, sorted (each refund id is the channel's key). */
  refundIds: string[];
}

/** Both local channels' books: Alipay's trades and WeChat Pay's orders and refunds, by gateway payment id. */
function channelBooks(stack: FaultStack): Map<string, ChannelTrade> {
  const books = new Map<string, ChannelTrade>();
  for (const [id, trade] of stack.channels.alipay.server.trades) {
    const refundIds = [...trade.refunds.keys()].sort();
    books.set(id, { paid: trade.paidAt !== undefined, refundedMinor: trade.refundedFen, refundIds });
  }
  const { orders, refunds } = stack.channels.wechat.server;
  for (const order of orders.values()) {
    const done = [...refunds.values()].filter(
      (refund) => refund.out_trade_no === order.out_trade_no && refund.status === 'SUCCESS',
    );
    books.set(`pay_${order.out_trade_no}`, {
      paid: order.transaction_id !== undefined,
      refundedMinor: done.reduce((total, refund) => total + refund.amount.refund, 0),
      refundIds: done.map((refund) => refund.out_refund_no).sort(),
    });
  }
  return books;
}

/** What {@link assertInvariants} counted. */
export interface InvariantReport {
  wallets: number;
  payments: number;
  refunds: number;
  events: number;
  /** Deliveries beyond the first of an event (at-least-once at work; the merchant applies each id once). */
  duplicateDeliveries: number;
}

/**
 * The invariants every injected crash must leave intact, checked over the stack's whole table:
 * - every wallet equals the sum of its ledger (available and frozen), with gap-free entries `1..version`;
 * - nothing is left in an intermediate state: no payment `PENDING`, no refund `PROCESSING`, nothing reserved;
 * - every paid payment credited its wallet exactly once, every refund froze once and then deducted (succeeded) or
 *   unfroze (failed) exactly once, and the payment's refunded sum is its succeeded refunds';
 * - the gateway and the channel (Alipay or WeChat Pay) agree on the money: a trade paid there is a paid payment,
 *   and the channel refunded exactly the refunds the gateway recorded as succeeded (each once, the same sum);
 * - a closed (expired) payment has exactly one `payment.closed` event;
 * - every channel daily-volume counter holds exactly the shares of the payments that hold their reservation (open or
 *   paid), and no reservation is left unconfirmed (the sweep gave back every one no payment was created with);
 * - one event per state change, each `DELIVERED`, each received by the merchant (at least once, correctly signed).
 */
export async function assertInvariants(stack: FaultStack): Promise<InvariantReport> {
  const table = await readTable(stack);
  const of = (entity: string) => table.get(entity) ?? [];
  const ledger = of('LEDGER');
  const events = of('EVENT');
  const refunds = of('REFUND');
  const payments = of('PAYMENT');

  for (const wallet of of('WALLET')) {
    const entries = ledger.filter((entry) => entry.PK === wallet.PK).sort((a, b) => Number(a.seq) - Number(b.seq));
    const sum = (field: string) => entries.reduce((total, entry) => total + Number(entry[field]), 0);
    expect(sum('availableDeltaMinor'), `available of ${wallet.PK}`).toBe(wallet.availableMinor);
    expect(sum('frozenDeltaMinor'), `frozen of ${wallet.PK}`).toBe(wallet.frozenMinor);
    expect(entries.map((entry) => entry.seq)).toEqual(entries.map((_, index) => index + 1));
    expect(entries.length).toBe(wallet.version);
  }

  const entriesOf = (type: string, field: 'paymentId' | 'refundId', id: unknown) =>
    ledger.filter((entry) => entry.type === type && entry[field] === id).length;
  const eventsOf = (type: string, field: 'paymentId' | 'refundId', id: unknown) =>
    events.filter((event) => event.type === type && event[field] === id).length;
  for (const refund of refunds) {
    expect(refund.status, `refund ${refund.id}`).not.toBe('PROCESSING');
    const succeeded = refund.status === 'SUCCEEDED';
    expect(entriesOf('REFUND_FREEZE', 'refundId', refund.id), `freeze of ${refund.id}`).toBe(1);
    expect(entriesOf('REFUND_DEDUCT', 'refundId', refund.id), `deduct of ${refund.id}`).toBe(succeeded ? 1 : 0);
    expect(entriesOf('REFUND_UNFREEZE', 'refundId', refund.id), `unfreeze of ${refund.id}`).toBe(succeeded ? 0 : 1);
    expect(eventsOf(succeeded ? 'refund.succeeded' : 'refund.failed', 'refundId', refund.id)).toBe(1);
  }

  const atChannel = channelBooks(stack);
  for (const payment of payments) {
    expect(payment.status, `payment ${payment.id}`).not.toBe('PENDING');
    const paid = PAID.has(String(payment.status));
    expect(entriesOf('RECHARGE', 'paymentId', payment.id), `recharge of ${payment.id}`).toBe(
      paid && payment.accountId ? 1 : 0,
    );
    expect(eventsOf('payment.succeeded', 'paymentId', payment.id), `events of ${payment.id}`).toBe(paid ? 1 : 0);
    const closed = payment.status === 'CLOSED' ? 1 : 0;
    expect(eventsOf('payment.closed', 'paymentId', payment.id), `closed events of ${payment.id}`).toBe(closed);
    const succeeded = refunds.filter((refund) => refund.paymentId === payment.id && refund.status === 'SUCCEEDED');
    const refunded = succeeded.reduce((total, refund) => total + Number(refund.amountMinor), 0);
    expect(payment.refundedMinor, `refunded of ${payment.id}`).toBe(refunded);
    expect(payment.refundingMinor ?? 0, `reserved of ${payment.id}`).toBe(0);
    const trade = atChannel.get(String(payment.id));
    expect(trade?.paid ?? false, `paid at the channel vs gateway: ${payment.id}`).toBe(paid);
    // Refunded at the channel exactly as recorded: the same refunds (by refund id), each once, the same sum.
    expect(trade?.refundedMinor ?? 0, `refunded at the channel: ${payment.id}`).toBe(refunded);
    expect(trade?.refundIds ?? [], `refunds at the channel: ${payment.id}`).toEqual(
      succeeded.map((refund) => String(refund.id)).sort(),
    );
  }
  expect(
    of('VOLUME_RESERVATION').map((record) => record.paymentId),
    'unconfirmed volume reservations',
  ).toEqual([]);
  const volume = new Map<string, number>();
  for (const payment of payments) {
    const held = payment.channelVolume as Payment['channelVolume'];
    if (!held || !HOLDS_VOLUME.has(String(payment.status))) continue;
    for (const share of held.shares ?? [{ amountMinor: held.amountMinor }]) {
      const key = channelKeys.daily(String(payment.channel), held.day, 'shard' in share ? share.shard : undefined);
      const at = `${key.PK}|${key.SK}|${payment.currency}`;
      volume.set(at, (volume.get(at) ?? 0) + share.amountMinor);
    }
  }
  for (const counter of of('CHANNEL_DAILY')) {
    for (const [attribute, total] of Object.entries(counter)) {
      if (!attribute.startsWith('total_')) continue;
      const at = `${counter.PK}|${counter.SK}|${attribute.slice('total_'.length)}`;
      expect(total, `daily volume ${at}`).toBe(volume.get(at) ?? 0);
    }
  }

  const known = new Set(payments.map((payment) => String(payment.id)));
  for (const [id, trade] of atChannel) {
    // A trade the gateway never committed (it died after the channel answered) must never have been paid.
    if (!known.has(id)) expect(trade.paid, `orphan trade ${id}`).toBe(false);
  }

  const eventIds = new Set(events.map((event) => String(event.id)));
  for (const event of events) expect(event.deliveryStatus, `event ${event.id}`).toBe('DELIVERED');
  expect([...stack.merchant.received.keys()].sort()).toEqual([...eventIds].sort());
  expect(stack.merchant.badSignatures).toBe(0);
  const deliveries = [...stack.merchant.received.values()].reduce((total, count) => total + count, 0);
  return {
    wallets: of('WALLET').length,
    payments: payments.length,
    refunds: refunds.length,
    events: events.length,
    duplicateDeliveries: deliveries - eventIds.size,
  };
}
