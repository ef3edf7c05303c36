import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/dynamo/audit-log.ts';
import { keys } from '#adapters/dynamo/keys.ts';
import { MAX_EVALUATED_PER_REQUEST } from '#adapters/dynamo/merchant-listing.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { createPayment } from '#app/create-payment.ts';
import { paymentEvent } from '#app/events.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import type { ListingMerchant } from '#app/ports.ts';
import { parseInput } from '#app/validation.ts';
import type { OutboxEvent } from '#domain/events.ts';
import { type ListingShardStep, listingShardsAt, MERCHANT_LISTING_SHARDS_SINCE } from '#domain/listing-shards.ts';
import type { Payment } from '#domain/payment.ts';
import { shardOf } from '#domain/shard.ts';
import { runCliCaptured } from '../../scripts/cli.ts';
import { merchantCli } from '../../scripts/merchant.ts';
import { paymentFixture, refundFixture } from '../support/domain-fixtures.ts';
import { newMerchant, testContainer, uniqueId } from '../support/fixtures.ts';

const container = testContainer();

/** Query calls sent through the container's client while `counting` (a build-step middleware, as bench/capacity.ts). */
let queries = 0;
let counting = false;
container.db.middlewareStack.add(
  (next, context) => (args) => {
    if (counting && context.commandName === 'QueryCommand') queries++;
    return next(args);
  },
  { step: 'build', name: 'testQueryCounter', override: true },
);

async function countQueries<T>(run: () => Promise<T>): Promise<{ result: T; queries: number }> {
  queries = 0;
  counting = true;
  try {
    return { result: await run(), queries };
  } finally {
    counting = false;
  }
}

/** Payments created one second apart from `start`, as create-payment records them (the count in force then). */
function payments(merchantId: string, steps: ListingShardStep[] | undefined, start: string, count: number): Payment[] {
  return Array.from({ length: count }, (_, index) => {
    const createdAt = new Date(Date.parse(start) + index * 1000).toISOString();
    return paymentFixture({
      merchantId,
      orderNo: uniqueId('O'),
      channel: index % 3 === 0 ? 'ALIPAY' : 'SANDBOX',
      createdAt,
      updatedAt: createdAt,
      listingShards: listingShardsAt(steps, createdAt),
    });
  });
}

async function commit(items: { payments?: Payment[]; events?: OutboxEvent[] }) {
  const all = [
    ...(items.payments ?? []).map((payment) => ({ payments: [{ payment, expectedVersion: 0 }] })),
    ...(items.events ?? []).map((event) => ({ events: [event] })),
  ];
  for (let start = 0; start < all.length; start += 10) {
    await Promise.all(all.slice(start, start + 10).map((changes) => container.store.commit(changes)));
  }
}

async function gsi1Partition(key: { PK: string; SK: string }): Promise<string> {
  const { Item } = await container.db.send(new GetCommand({ TableName: container.config.tableName, Key: key }));
  return String(Item?.GSI1PK);
}

const newestFirst = <T extends { id: string; createdAt: string }>(items: T[]) =>
  [...items].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1)).map((item) => item.id);

describe('per-merchant listing shards (GSI1 regimes)', () => {
  it('lists items written under every regime exactly once, newest first, across pages, filters and ranges', async () => {
    const merchantId = uniqueId('mch');
    // The operator raised this merchant to 64 shards from 2026-12-10.
    const steps = [{ from: '2026-12-10T00:00:00.000Z', shards: 64 }];
    const merchant: ListingMerchant = { id: merchantId, listingShardSteps: steps };
    const eras = {
      unsharded: payments(merchantId, steps, '2026-11-20T08:00:00.000Z', 9),
      global128: payments(merchantId, steps, '2026-12-02T08:00:00.000Z', 9),
      global256: payments(merchantId, steps, '2026-12-04T08:00:00.000Z', 9),
      defaultOne: payments(merchantId, steps, '2026-12-06T08:00:00.000Z', 9),
      raised: payments(merchantId, steps, '2026-12-12T08:00:00.000Z', 9),
    };
    const all = Object.values(eras).flat();
    // Events of the default-era payments created in the raised era (a callback: no merchant profile read) keep their
    // payment's count of 1; the raised era's own events take 64.
    const late = new Date('2026-12-12T09:00:00.000Z');
    const events = [...eras.defaultOne, ...eras.raised].map((payment, index) =>
      paymentEvent(uniqueId('evt'), 'payment.succeeded', payment, new Date(late.getTime() + index * 1000)),
    );
    // A refund per era (its count the one in force at its creation, as create-refund records it), and one in the
    // raised era keyed by a smaller count.
    const refunds = Object.values(eras).map((era) => {
      const payment = era[0] as Payment;
      const createdAt = new Date(Date.parse(payment.createdAt) + 500).toISOString();
      return {
        ...refundFixture(payment, 100),
        createdAt,
        updatedAt: createdAt,
        listingShards: listingShardsAt(steps, createdAt),
      };
    });
    const smaller = refundFixture(eras.defaultOne[1] as Payment, 100);
    refunds.push({ ...smaller, createdAt: late.toISOString(), updatedAt: late.toISOString(), listingShards: 1 });
    await commit({ payments: all, events });
    for (const refund of refunds) await container.store.commit({ refunds: [{ refund, expectedVersion: 0 }] });

    // Where they were written: the unsharded key, then the global plan's shards, then `#{shard}` of their own count.
    expect(await gsi1Partition(keys.payment(eras.unsharded[0]?.id ?? ''))).toBe(`MERCHANT#${merchantId}`);
    expect(eras.defaultOne.every((payment) => payment.listingShards === 1)).toBe(true);
    expect(eras.raised.every((payment) => payment.listingShards === 64)).toBe(true);
    for (const payment of eras.defaultOne) {
      expect(await gsi1Partition(keys.payment(payment.id))).toBe(`MERCHANT#${merchantId}#0`);
    }
    expect(await gsi1Partition(keys.event(events[0]?.id ?? ''))).toBe(`MERCHANT#${merchantId}#EVENTS#0`);

    const listAll = async <T>(list: (cursor?: string) => Promise<{ items: T[]; nextCursor?: string }>) => {
      const listed: T[] = [];
      let cursor: string | undefined;
      do {
        const page = await list(cursor);
        expect(page.items.length).toBeLessThanOrEqual(7);
        listed.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      return listed;
    };
    const ids = (items: { id: string }[]) => items.map((item) => item.id);
    const now = new Date('2026-12-31T00:00:00.000Z');

    expect(ids(await listAll((cursor) => container.payments.list(merchant, { limit: 7, cursor }, { now })))).toEqual(
      newestFirst(all),
    );
    const alipay = await listAll((cursor) =>
      container.payments.list(merchant, { limit: 7, cursor }, { channel: 'ALIPAY', now }),
    );
    expect(ids(alipay)).toEqual(newestFirst(all.filter((payment) => payment.channel === 'ALIPAY')));
    const [createdGte, createdLt] = ['2026-12-02T08:00:04.000Z', '2026-12-12T08:00:03.000Z'];
    const ranged = await listAll((cursor) =>
      container.payments.list(merchant, { limit: 7, cursor, createdGte, createdLt }, { now }),
    );
    expect(ids(ranged)).toEqual(
      newestFirst(all.filter((payment) => payment.createdAt >= createdGte && payment.createdAt < createdLt)),
    );
    const listedEvents = await listAll((cursor) => container.events.list(merchant, { limit: 7, cursor }, {}));
    expect(ids(listedEvents)).toEqual(newestFirst(events));
    const listedRefunds = await listAll((cursor) => container.refunds.list(merchant, { limit: 2, cursor }, {}));
    expect(ids(listedRefunds)).toEqual(newestFirst(refunds));
  });

  it('a small merchant pays one Query for a page of recent items; one raised to 256 shards pays 256', async () => {
    const day = '2027-01-05T10:00:00.000Z';
    expect(day > MERCHANT_LISTING_SHARDS_SINCE).toBe(true);
    const small: ListingMerchant = { id: uniqueId('mch'), createdAt: '2026-12-20T00:00:00.000Z' };
    const bigSteps = [{ from: '2026-12-20T00:00:00.000Z', shards: 256 }];
    const big: ListingMerchant = { id: uniqueId('mch'), listingShardSteps: bigSteps };
    const smallPayments = payments(small.id, undefined, day, 25);
    const bigPayments = payments(big.id, bigSteps, day, 25);
    await commit({ payments: [...smallPayments, ...bigPayments] });
    const now = new Date('2027-01-06T00:00:00.000Z');

    const first = await countQueries(() => container.payments.list(small, { limit: 10 }, { now }));
    expect(first.queries).toBe(1);
    expect(first.result.items.map((payment) => payment.id)).toEqual(newestFirst(smallPayments).slice(0, 10));
    const second = await countQueries(() =>
      container.payments.list(small, { limit: 10, cursor: first.result.nextCursor }, { now }),
    );
    expect(second.queries).toBe(1);
    expect(second.result.items.map((payment) => payment.id)).toEqual(newestFirst(smallPayments).slice(10, 20));
    // The last page: the merchant's only regime read to its end, and nothing older read (it was created after).
    const last = await countQueries(() =>
      container.payments.list(small, { limit: 10, cursor: second.result.nextCursor }, { now }),
    );
    expect(last.queries).toBe(1);
    expect(last.result).toEqual({ items: expect.any(Array) });
    expect(last.result.items).toHaveLength(5);

    const bigPage = await countQueries(() => container.payments.list(big, { limit: 10 }, { now }));
    expect(bigPage.queries).toBe(256);
    expect(bigPage.result.items.map((payment) => payment.id)).toEqual(newestFirst(bigPayments).slice(0, 10));
  });

  it('an operator raises a merchant to 64 shards ahead of time (audited); payments and events created after use it', async () => {
    const { merchant } = await newMerchant(container);
    const from = new Date(Date.now() + 3_600_000).toISOString();
    const add = (at: string, shards: string) =>
      runCliCaptured(merchantCli, ['listing-shards', 'add', '--id', merchant.id, '--from', at, '--shards', shards]);
    const added = await add(from, '64');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({
      merchant_id: merchant.id,
      steps: [{ from, shards: 64 }],
      count_now: listingShardsAt([{ from, shards: 64 }], new Date().toISOString()),
      per_merchant_since: MERCHANT_LISTING_SHARDS_SINCE,
    });
    // Refused, nothing changed: too soon (inside the cache TTL lead), not after the last step, not larger.
    expect((await add(new Date(Date.now() + 1000).toISOString(), '128')).code).toBe(1);
    expect((await add(from, '128')).code).toBe(1);
    expect((await add(new Date(Date.parse(from) + 1000).toISOString(), '64')).code).toBe(1);
    expect((await add(new Date(Date.parse(from) + 1000).toISOString(), 'many')).code).toBe(1);
    const stored = await container.merchants.get(merchant.id);
    expect(stored?.listingShardSteps).toEqual([{ from, shards: 64 }]);
    const trail = await new DynamoAuditLog(container.db, container.config.tableName).list({
      since: new Date(Date.now() - 600_000),
      until: new Date(Date.now() + 60_000),
      merchantId: merchant.id,
    });
    const changes = trail.filter((record) => record.action === 'merchant.listing_shards_changed');
    expect(changes.map((record) => [record.actor.type, record.after?.listingShardSteps])).toEqual([
      ['operator', [{ from, shards: 64 }]],
    ]);

    // After the step and the cutover: the payment records 64 and is keyed by it; its event (a worker, no profile
    // read) takes it over.
    const laterAt = Math.max(Date.parse(from), Date.parse(`${MERCHANT_LISTING_SHARDS_SINCE}T00:00:00.000Z`)) + 60_000;
    const later = testContainer({ clock: () => new Date(laterAt) });
    const body = parseInput(createPaymentSchema({ allowLoopbackHttp: true }), {
      order_no: uniqueId('LS'),
      amount: '10.00',
      subject: 'listing shards',
      channel: 'SANDBOX',
      account_id: uniqueId('acct'),
    });
    const { payment } = await createPayment(later, stored ?? merchant, body);
    expect(payment.listingShards).toBe(64);
    const result = { paymentId: payment.id, status: 'SUCCEEDED' as const, amountMinor: 1000, currency: 'CNY' };
    await applyPaymentResult(later, { ...result, channelTradeNo: `sbx_${payment.id}` }, 'SANDBOX');
    expect(await gsi1Partition(keys.payment(payment.id))).toMatch(
      new RegExp(`^MERCHANT#${merchant.id}#([0-9]|[1-5][0-9]|6[0-3])$`),
    );
    const listed = await later.payments.list(stored ?? merchant, { limit: 5 }, { now: later.clock() });
    expect(listed.items.map((item) => item.id)).toEqual([payment.id]);
    const events = await later.events.list(stored ?? merchant, { limit: 5 }, {});
    expect(events.items.map((event) => [event.paymentId, event.listingShards])).toEqual([[payment.id, 64]]);
  });

  it('a page that cannot read every shard of the next regime once ends at the regime boundary, and the next goes on', async () => {
    // A merchant raised to 200 shards, each holding 4 items the filter skips: a page of 4 (5 read per shard) reads that
    // regime to its end evaluating 800 of the 1,000 a request may, then the default regime's one shard; the global
    // plan's 256-shard regime before 2026-12-05 cannot then be read once per shard (256 > 200 left).
    const merchantId = uniqueId('mch');
    const steps = [{ from: '2026-12-10T00:00:00.000Z', shards: 200 }];
    const perShard = new Map<number, number>();
    const skipped: Payment[] = [];
    for (let index = 0; skipped.length < 800; index++) {
      const payment = paymentFixture({ merchantId, orderNo: `S${index}`, channel: 'SANDBOX', listingShards: 200 });
      const shard = shardOf(payment.id, 200);
      if ((perShard.get(shard) ?? 0) >= 4) continue;
      perShard.set(shard, (perShard.get(shard) ?? 0) + 1);
      const createdAt = new Date(Date.parse('2027-01-05T00:00:00.000Z') + skipped.length * 1000).toISOString();
      skipped.push({ ...payment, createdAt, updatedAt: createdAt });
    }
    const wanted = payments(merchantId, steps, '2026-12-04T08:00:00.000Z', 6).map((payment) => ({
      ...payment,
      channel: 'ALIPAY' as const,
    }));
    await commit({ payments: [...skipped, ...wanted] });
    const merchant: ListingMerchant = { id: merchantId, listingShardSteps: steps };
    const page = (cursor?: string) =>
      countQueries(() =>
        container.payments.list(merchant, { limit: 4, cursor }, { channel: 'ALIPAY', now: new Date() }),
      );

    expect(MAX_EVALUATED_PER_REQUEST).toBe(1000);
    const first = await page();
    // The 200 shards and the default regime's one; not the 256.
    expect(first.queries).toBe(201);
    expect(first.result.items).toEqual([]);
    const boundary = Buffer.from(String(first.result.nextCursor), 'base64url').toString('utf8');
    expect(boundary).toBe(`v1:${MERCHANT_LISTING_SHARDS_SINCE}T00:00:00.000Z#%`);
    // From the boundary on: the 256 shards, then the older regimes; in order, each item once.
    const second = await page(first.result.nextCursor);
    expect(second.queries).toBe(256);
    expect(second.result.items.map((payment) => payment.id)).toEqual(newestFirst(wanted).slice(0, 4));
    const third = await page(second.result.nextCursor);
    expect(third.result.items.map((payment) => payment.id)).toEqual(newestFirst(wanted).slice(4));
    expect(third.result.nextCursor).toBeUndefined();
  });
});
