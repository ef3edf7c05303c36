import { describe, expect, it } from 'vitest';
import type { Payment } from '#domain/payment.ts';
import { ValidationError } from '#shared/errors.ts';
import { paymentFixture } from '../support/domain-fixtures.ts';
import { testContainer, uniqueId } from '../support/fixtures.ts';

const container = testContainer();

/** Commits payments of one merchant created one second apart from `start` (oldest first). */
async function seed(merchantId: string, count: number, overrides: (index: number) => Partial<Payment> = () => ({})) {
  const start = Date.parse('2026-12-01T00:00:00.000Z');
  const payments: Payment[] = [];
  for (let index = 0; index < count; index++) {
    const createdAt = new Date(start + index * 1000).toISOString();
    const payment = paymentFixture({ merchantId, orderNo: `O${index}`, createdAt, ...overrides(index) });
    await container.store.commit({ payments: [{ payment, expectedVersion: 0 }] });
    payments.push(payment);
  }
  return payments;
}

/** Every page of a listing, following the cursors. */
async function allPages(list: (cursor?: string) => Promise<{ items: Payment[]; nextCursor?: string }>) {
  const pages: Payment[][] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}

const now = new Date('2026-12-01T00:10:00.000Z');

describe('merchant payment listing (GSI1)', () => {
  it('pages newest first through a filter that skips most items, without repeating or losing one', async () => {
    const merchantId = uniqueId('mch');
    const payments = await seed(merchantId, 23, (index) => ({ channel: index % 4 === 0 ? 'ALIPAY' : 'SANDBOX' }));
    const pages = await allPages((cursor) =>
      container.payments.list({ id: merchantId }, { limit: 2, cursor }, { channel: 'ALIPAY', now }),
    );
    const expected = payments.filter((payment) => payment.channel === 'ALIPAY').reverse();
    expect(pages.flat().map((payment) => payment.id)).toEqual(expected.map((payment) => payment.id));
    expect(pages.map((page) => page.length)).toEqual([2, 2, 2]);
  });

  it('bounds creation time: created_gte inclusive, created_lt exclusive, also across pages', async () => {
    const merchantId = uniqueId('mch');
    const payments = await seed(merchantId, 8);
    const createdGte = payments[2]?.createdAt;
    const createdLt = payments[6]?.createdAt;
    const pages = await allPages((cursor) =>
      container.payments.list({ id: merchantId }, { limit: 3, cursor, createdGte, createdLt }, { now }),
    );
    expect(pages.flat().map((payment) => payment.orderNo)).toEqual(['O5', 'O4', 'O3', 'O2']);
  });

  it('filters by the status the merchant sees: a PENDING payment past its expiry is CLOSED, not PENDING', async () => {
    const merchantId = uniqueId('mch');
    const [expired, live] = await seed(merchantId, 2, (index) => ({
      expiresAt: new Date(now.getTime() + (index === 0 ? -1 : 1) * 60_000).toISOString(),
    }));
    const ids = async (status: Payment['status']) =>
      (await container.payments.list({ id: merchantId }, { limit: 10 }, { status, now })).items.map(
        (payment) => payment.id,
      );
    expect(await ids('PENDING')).toEqual([live?.id]);
    expect(await ids('CLOSED')).toEqual([expired?.id]);
  });

  it('shows only the merchant its own payments, whatever cursor it sends', async () => {
    const [mine, theirs] = [uniqueId('mch'), uniqueId('mch')];
    await seed(mine, 2);
    const other = await seed(theirs, 3);
    // A cursor naming a position of the other merchant's listing still reads the caller's own partition only.
    const page = await container.payments.list({ id: theirs }, { limit: 1 }, { now });
    const listed = await container.payments.list({ id: mine }, { limit: 10, cursor: page.nextCursor }, { now });
    expect(listed.items.every((payment) => payment.merchantId === mine)).toBe(true);
    expect(listed.items.map((payment) => payment.id)).not.toContain(other[1]?.id);
  });

  it('refuses a cursor it did not issue as VALIDATION_FAILED', async () => {
    for (const cursor of ['nonsense', Buffer.from('v1:x').toString('base64url'), '%%%']) {
      await expect(container.payments.list({ id: 'mch_x' }, { limit: 1, cursor }, { now })).rejects.toBeInstanceOf(
        ValidationError,
      );
    }
  });
});
