import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResponse, MerchantClient } from '../../local/merchant-client.ts';
import { startHttpStack } from '../support/http-stack.ts';
import { eventually } from '../support/local-workflows.ts';
import { postSandboxCallback, successCallback } from '../support/sandbox.ts';

type Json = Record<string, unknown>;
type List = { object: string; data: Json[]; has_more: boolean; next_cursor: string | null };
type ErrorBody = { error: { code: string } };

let stack: Awaited<ReturnType<typeof startHttpStack>>;
let client: MerchantClient;
let stranger: MerchantClient;

beforeAll(async () => {
  stack = await startHttpStack();
  ({ client } = await stack.newClient());
  ({ client: stranger } = await stack.newClient());
});
afterAll(() => stack.stop());

const unique = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 12)}`;

async function createPayment(by: MerchantClient, fields: Json = {}) {
  const created = await by.request<Json>('POST', '/v1/payments', {
    order_no: unique('L'),
    amount: '5.00',
    subject: 'listing',
    channel: 'SANDBOX',
    ...fields,
  });
  expect(created.status).toBe(201);
  return created.body;
}

async function paid(by: MerchantClient, fields: Json = {}) {
  const payment = await createPayment(by, fields);
  expect((await postSandboxCallback(stack.apiBase, successCallback(payment as never))).status).toBe(200);
  return payment;
}

/** Follows `next_cursor` to the end; every page is a list object. */
async function allPages(by: MerchantClient, path: string) {
  const pages: List[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const response: ApiResponse<List> = await by.request<List>(
      'GET',
      cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path,
    );
    expect(response.status).toBe(200);
    expect(response.body.object).toBe('list');
    pages.push(response.body);
    cursor = response.body.next_cursor;
    expect(response.body.has_more).toBe(cursor !== null);
  } while (cursor);
  return pages;
}

const ids = (pages: List[]) => pages.flatMap((page) => page.data.map((item) => item.id));

describe('GET /v1/payments', () => {
  it('lists the merchant payments newest first across pages, filtered, and nobody else sees them', async () => {
    const accountId = unique('acct-');
    const created: Json[] = [];
    for (let index = 0; index < 5; index++) created.push(await createPayment(client, { account_id: accountId }));
    await createPayment(client); // not this account's
    await createPayment(stranger, { account_id: accountId }); // same account id, another merchant

    const pages = await allPages(client, `/v1/payments?account_id=${accountId}&limit=2`);
    expect(pages.map((page) => page.data.length)).toEqual([2, 2, 1]);
    expect(ids(pages)).toEqual(created.map((payment) => payment.id).reverse());
    expect(pages[0]?.data[0]).toMatchObject({ object: 'payment', account_id: accountId, status: 'PENDING' });

    const theirs = await allPages(stranger, `/v1/payments?account_id=${accountId}`);
    expect(ids(theirs)).toHaveLength(1);
    expect(ids(theirs)).not.toContain(created[0]?.id);
  });

  it('filters by status and creation time', async () => {
    const accountId = unique('acct-');
    const pending = await createPayment(client, { account_id: accountId });
    const succeeded = await paid(client, { account_id: accountId });
    const list = (query: string) => allPages(client, `/v1/payments?account_id=${accountId}&${query}`);
    expect(ids(await list('status=SUCCEEDED'))).toEqual([succeeded.id]);
    expect(ids(await list('status=PENDING'))).toEqual([pending.id]);
    expect(ids(await list(`created_lt=${succeeded.created_at}`))).toEqual([pending.id]);
    expect(ids(await list(`created_gte=${succeeded.created_at}&channel=SANDBOX`))).toEqual([succeeded.id]);
  });

  it('keeps the single-payment answer of ?order_no=', async () => {
    const payment = await createPayment(client);
    const found = await client.request<Json>('GET', `/v1/payments?order_no=${payment.order_no}`);
    expect([found.status, found.body.id]).toEqual([200, payment.id]);
    expect((await stranger.request('GET', `/v1/payments?order_no=${payment.order_no}`)).status).toBe(404);
  });

  it('answers 400 VALIDATION_FAILED to bad listing input, and never a 500', async () => {
    const forged = Buffer.from('v1:2026-12-01T00:00:00.000Z#pay_x', 'utf8').toString('base64url');
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=1e1',
      'status=OPEN',
      'channel=PAYPAL',
      'created_gte=yesterday',
      'created_gte=2026-12-02T00:00:00Z&created_lt=2026-12-01T00:00:00Z',
      'cursor=not-a-cursor',
      'colour=red',
      'order_no=A1&limit=5',
    ]) {
      const response = await client.request<ErrorBody>('GET', `/v1/payments?${query}`);
      expect([query, response.status, response.body.error.code]).toEqual([query, 400, 'VALIDATION_FAILED']);
    }
    // A well-formed cursor the caller did not get only positions the caller's own listing.
    const page = await client.request<List>('GET', `/v1/payments?cursor=${forged}&created_gte=2027-01-01T00:00:00Z`);
    expect([page.status, page.body.data]).toEqual([200, []]);
  });
});

describe('GET /v1/refunds', () => {
  it('lists refunds newest first, by payment and status, only the merchant own', async () => {
    const payment = await paid(client, { amount: '9.00' });
    const refunds: Json[] = [];
    for (const amount of ['1.00', '2.00', '3.00']) {
      const refund = await client.request<Json>('POST', '/v1/refunds', {
        payment_id: payment.id,
        refund_no: unique('R'),
        amount,
      });
      expect(refund.status).toBe(201);
      refunds.push(refund.body);
    }
    await postSandboxCallback(stack.apiBase, { refund_id: refunds[0]?.id, status: 'SUCCESS' });

    const pages = await allPages(client, `/v1/refunds?payment_id=${payment.id}&limit=2`);
    expect(ids(pages)).toEqual(refunds.map((refund) => refund.id).reverse());
    expect(pages[0]?.data[0]).toMatchObject({ object: 'refund', payment_id: payment.id });
    const succeeded = await allPages(client, `/v1/refunds?payment_id=${payment.id}&status=SUCCEEDED`);
    expect(ids(succeeded)).toEqual([refunds[0]?.id]);
    expect(ids(await allPages(client, '/v1/refunds?limit=100')).slice(0, 3)).toEqual(ids(pages));

    expect(ids(await allPages(stranger, `/v1/refunds?payment_id=${payment.id}`))).toEqual([]);
    expect(ids(await allPages(stranger, '/v1/refunds'))).not.toContain(refunds[0]?.id);
    const bad = await client.request<ErrorBody>('GET', '/v1/refunds?status=DONE');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('GET /v1/events', () => {
  it('lists events newest first with their delivery state, by type and delivery status', async () => {
    const { client: fresh } = await stack.newClient();
    const closed = await createPayment(fresh);
    expect((await fresh.request('POST', `/v1/payments/${closed.id}/close`)).status).toBe(200);
    const succeeded = await paid(fresh);
    const pages = await eventually(async () => {
      const all = await allPages(fresh, '/v1/events?limit=1');
      return all.flatMap((page) => page.data).length === 2 ? all : undefined;
    });
    expect(pages.flatMap((page) => page.data)).toMatchObject([
      { object: 'event', type: 'payment.succeeded', data: { id: succeeded.id }, delivery: { status: 'PENDING' } },
      { object: 'event', type: 'payment.closed', data: { id: closed.id } },
    ]);
    const byType = await allPages(fresh, '/v1/events?type=payment.closed&delivery_status=PENDING');
    expect(byType.flatMap((page) => page.data.map((event) => event.type))).toEqual(['payment.closed']);
    expect(ids(await allPages(fresh, '/v1/events?delivery_status=DELIVERED'))).toEqual([]);
    expect(ids(await allPages(stranger, '/v1/events?limit=100'))).not.toContain(ids(pages)[0]);
    const bad = await fresh.request<ErrorBody>('GET', '/v1/events?type=payment.created');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});
