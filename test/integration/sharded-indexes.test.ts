import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  EXPIRY_SHARDED_SINCE,
  expiryPartitions,
  keys,
  SHARDED_SINCE,
  settlementDayPartitions,
} from '#adapters/dynamo/keys.ts';
import { businessDayWindow } from '#domain/business-day.ts';
import type { Payment } from '#domain/payment.ts';
import { paymentFixture, refundFixture } from '../support/domain-fixtures.ts';
import { testContainer, uniqueId } from '../support/fixtures.ts';

const container = testContainer();
/** A day before the indexes were sharded (its keys have the old unsharded form) and one after. */
const BEFORE = '2026-11-15';
const AFTER = '2027-03-15';

function at(iso: string, plusMs: number): string {
  return new Date(Date.parse(iso) + plusMs).toISOString();
}

async function commitAll(payments: Payment[]): Promise<void> {
  for (let start = 0; start < payments.length; start += 10) {
    await Promise.all(
      payments
        .slice(start, start + 10)
        .map((payment) => container.store.commit({ payments: [{ payment, expectedVersion: 0 }] })),
    );
  }
}

async function indexKey(paymentId: string, attribute: string): Promise<string> {
  const { Item } = await container.db.send(
    new GetCommand({ TableName: container.config.tableName, Key: keys.payment(paymentId) }),
  );
  return String(Item?.[attribute]);
}

describe('sharded index keys, read across every shard', () => {
  it('reconciliation sees every settled payment of a channel-day, before and after sharding, in time order', async () => {
    expect(BEFORE < SHARDED_SINCE && AFTER > SHARDED_SINCE).toBe(true);
    const merchantId = uniqueId('mch');
    const settled = (day: string, count: number) => {
      const { from } = businessDayWindow('Asia/Shanghai', day);
      return Array.from({ length: count }, (_, i) =>
        paymentFixture({
          merchantId,
          orderNo: uniqueId('ORD'),
          channel: 'ALIPAY',
          status: 'SUCCEEDED',
          paidAt: at(from, 60_000 * (count - i)),
          version: 1,
        }),
      );
    };
    const before = settled(BEFORE, 12);
    const after = settled(AFTER, 60);
    await commitAll([...before, ...after]);

    expect(settlementDayPartitions('ALIPAY', BEFORE)).toHaveLength(1);
    const partitions = new Set(await Promise.all(after.map((payment) => indexKey(payment.id, 'GSI2PK'))));
    expect(partitions.size).toBeGreaterThan(10);
    for (const partition of partitions) expect(settlementDayPartitions('ALIPAY', AFTER)).toContain(partition);

    for (const [day, written] of [
      [BEFORE, before],
      [AFTER, after],
    ] as const) {
      const { from, to } = businessDayWindow('Asia/Shanghai', day);
      const seen: Payment[] = [];
      for await (const record of container.reconciliations.settledOn('ALIPAY', day, from, to)) {
        if (record.merchantId === merchantId) seen.push(record as Payment);
      }
      const byTime = [...written].sort((a, b) => String(a.paidAt).localeCompare(String(b.paidAt)));
      expect(seen.map((payment) => payment.id)).toEqual(byTime.map((payment) => payment.id));
    }
  });

  it('the minute timer pages through every pending payment and every refund due for a status sync, on every shard', async () => {
    expect(BEFORE < EXPIRY_SHARDED_SINCE && AFTER > EXPIRY_SHARDED_SINCE).toBe(true);
    for (const [minute, count] of [
      [`${BEFORE}T10:07`, 15],
      [`${AFTER}T10:07`, 90],
    ] as const) {
      const pending = Array.from({ length: count }, (_, i) =>
        paymentFixture({
          merchantId: uniqueId('mch'),
          orderNo: uniqueId('ORD'),
          expiresAt: `${minute}:${String(i % 60).padStart(2, '0')}.000Z`,
        }),
      );
      await commitAll(pending);
      // PROCESSING refunds due for their status sync in the same minute share its buckets (written before sharding in
      // the BEFORE minute, sharded in the AFTER one).
      const paid = paymentFixture({ merchantId: uniqueId('mch'), orderNo: uniqueId('ORD'), status: 'SUCCEEDED' });
      const refunds = Array.from({ length: 12 }, (_, i) => ({
        ...refundFixture(paid, 100),
        syncAt: `${minute}:${String(i).padStart(2, '0')}.000Z`,
      }));
      for (const refund of refunds) await container.store.commit({ refunds: [{ refund, expectedVersion: 0 }] });
      const listed: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await container.expiryIndex.listPending(minute, 20, cursor);
        expect(page.paymentIds.length).toBeLessThanOrEqual(20);
        listed.push(...page.paymentIds);
        cursor = page.cursor;
        pages += 1;
      } while (cursor);
      const ours = new Set([...pending.map((payment) => payment.id), ...refunds.map((refund) => refund.id)]);
      expect(listed.filter((id) => ours.has(id)).sort()).toEqual([...ours].sort());
      expect(new Set(listed).size).toBe(listed.length);
      expect(pages).toBeGreaterThanOrEqual(Math.ceil(count / 20));
      const shards = new Set(await Promise.all(pending.map((payment) => indexKey(payment.id, 'GSI3PK'))));
      expect(shards.size).toBeLessThanOrEqual(expiryPartitions(minute).length);
      for (const shard of shards) expect(expiryPartitions(minute)).toContain(shard);
      // Before the step: the unsharded key, as items written before the change have it; after: spread over shards.
      if (minute < EXPIRY_SHARDED_SINCE) expect([...shards]).toEqual([`EXPIRY#${minute}`]);
      else expect(shards.size).toBeGreaterThan(1);
    }
  });

  it('a merchant listing is newest first across every shard and the unsharded history, page after page', async () => {
    const merchantId = uniqueId('mch');
    const created = (day: string, count: number) =>
      Array.from({ length: count }, (_, i) => {
        const createdAt = at(`${day}T08:00:00.000Z`, 1000 * i);
        return paymentFixture({ merchantId, orderNo: uniqueId('ORD'), createdAt, updatedAt: createdAt });
      });
    const all = [...created(BEFORE, 20), ...created(AFTER, 70)];
    await commitAll(all);
    const newestFirst = [...all].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1)).map((payment) => payment.id);

    const listAll = async (query: { createdGte?: string; createdLt?: string }) => {
      const listed: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await container.payments.list(
          { id: merchantId },
          { limit: 25, cursor, ...query },
          { now: new Date() },
        );
        expect(page.items.length).toBeLessThanOrEqual(25);
        listed.push(...page.items.map((payment) => payment.id));
        cursor = page.nextCursor;
      } while (cursor);
      return listed;
    };
    expect(await listAll({})).toEqual(newestFirst);
    const [gte, lt] = [`${BEFORE}T08:00:05.000Z`, `${AFTER}T08:00:10.000Z`];
    const createdAt = new Map(all.map((payment) => [payment.id, payment.createdAt]));
    expect(await listAll({ createdGte: gte, createdLt: lt })).toEqual(
      newestFirst.filter((id) => (createdAt.get(id) ?? '') >= gte && (createdAt.get(id) ?? '') < lt),
    );
  });
});
