// The callback source allowlists and the channel message journal, against the local Alipay and WeChat Pay servers.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContainer } from '#adapters/container.ts';
import { DynamoChannelJournal } from '#adapters/dynamo/channel-journal.ts';
import { DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import type { JournalEntry } from '#domain/channel-journal.ts';
import type { Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { loadConfig } from '#shared/config.ts';
import type { MerchantClient } from '../../local/merchant-client.ts';
import { runCli } from '../../scripts/cli.ts';
import { journalCli } from '../../scripts/journal.ts';
import { LOCAL_BUYER } from '../support/channels/alipay-trades.ts';
import { uniqueId } from '../support/fixtures.ts';
import { createQrPayment, type RealChannelStack, startRealChannelStack } from '../support/real-channel-stack.ts';
import { callbackUrls } from '../support/real-channels.ts';

type Json = Record<string, unknown>;

let real: RealChannelStack;
let client: MerchantClient;
let notify: ReturnType<typeof callbackUrls>;

/** The gateway listens on 127.0.0.1; a callback sent from 127.0.0.2 (also loopback on Linux) comes from elsewhere. */
const LISTED = '127.0.0.1/32';
const OUTSIDER = '127.0.0.2';

beforeAll(async () => {
  real = await startRealChannelStack({ ALIPAY: 100, WECHAT_PAY: 10 });
  notify = callbackUrls(real.stack.apiBase);
  ({ client } = await real.stack.newClient());
  const profiles = new DynamoChannelProfileRepository(real.table.db, real.table.tableName);
  for (const channel of ['ALIPAY', 'WECHAT_PAY'] as const) {
    const profile = (await profiles.get(channel)) as ChannelProfile;
    await profiles.put({ ...profile, callbackAllowlist: [LISTED] }, profile.updatedAt);
  }
}, 120_000);

afterAll(() => real?.stop());

/** POSTs from a chosen local address (the source API Gateway would report), with no forwarding header trusted. */
function postFrom(localAddress: string, url: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const paymentOf = async (id: string) => (await client.request<Json>('GET', `/v1/payments/${id}`)).body;
const balanceOf = async (accountId: string) =>
  (await client.request<Json>('GET', `/v1/accounts/${accountId}/balance?currency=CNY`)).body;

describe('callback source allowlists', () => {
  it('refuses a genuinely signed Alipay callback from a non-listed address with 403 and changes nothing', async () => {
    const accountId = uniqueId('user');
    const created = await createQrPayment(client, { channel: 'ALIPAY', amount: '12.00', account_id: accountId });
    const id = String(created.body.id);
    real.channels.alipay.server.pay(id);
    const form = new URLSearchParams(real.channels.alipay.server.notificationParams(id)).toString();
    const headers = {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      // A client-controlled header never decides the source.
      'x-forwarded-for': '127.0.0.1',
    };

    const refused = await postFrom(OUTSIDER, notify.alipay, headers, form);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'CALLBACK_SOURCE_FORBIDDEN' } });
    expect(await paymentOf(id)).toMatchObject({ status: 'PENDING', paid_at: null });
    expect(await balanceOf(accountId)).toMatchObject({ available: '0.00', updated_at: null });

    // The same callback from the listed address is processed.
    expect(await postFrom('127.0.0.1', notify.alipay, headers, form)).toEqual({ status: 200, body: 'success' });
    expect(await paymentOf(id)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await balanceOf(accountId)).toMatchObject({ available: '12.00' });
  });

  it('refuses a WeChat Pay callback from a non-listed address with 403 and changes nothing', async () => {
    const accountId = uniqueId('user');
    const created = await createQrPayment(client, { channel: 'WECHAT_PAY', amount: '7.00', account_id: accountId });
    const id = String(created.body.id);
    const outTradeNo = id.slice('pay_'.length);
    real.channels.wechat.server.pay(outTradeNo);
    const signed = real.channels.wechat.server.transactionNotification(outTradeNo);

    const refused = await postFrom(OUTSIDER, notify.wechat, signed.headers, signed.body);
    expect(refused.status).toBe(403);
    expect(await paymentOf(id)).toMatchObject({ status: 'PENDING' });
    expect(await balanceOf(accountId)).toMatchObject({ available: '0.00', updated_at: null });

    expect((await postFrom('127.0.0.1', notify.wechat, signed.headers, signed.body)).status).toBe(204);
    expect(await balanceOf(accountId)).toMatchObject({ available: '7.00' });
  });
});

describe('channel message journal', () => {
  /** Every exchange of one external channel about one payment: create, query, callback, refund, refund query, refund callback. */
  async function exchangeEverything(channel: 'ALIPAY' | 'WECHAT_PAY') {
    const container = createContainer(loadConfig());
    const adapter = container.channels.get(channel);
    if (!adapter) throw new Error(`no ${channel} adapter`);
    const sentSignatures: string[] = [];
    const created = await createQrPayment(client, { channel, amount: '30.00', account_id: uniqueId('user') });
    expect(created.status).toBe(201);
    const id = String(created.body.id);
    const outTradeNo = id.slice('pay_'.length);
    if (channel === 'ALIPAY') real.channels.alipay.server.pay(id);
    else real.channels.wechat.server.pay(outTradeNo);
    // A status query, as the expiry timer and reconciliation make it.
    await adapter.queryPayment((await container.payments.get(id)) as Payment);
    await container.journal.flush();
    if (channel === 'ALIPAY') {
      const params = real.channels.alipay.server.notificationParams(id);
      sentSignatures.push(params.sign ?? '');
      const headers = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
      const form = new URLSearchParams(params).toString();
      expect((await postFrom('127.0.0.1', notify.alipay, headers, form)).body).toBe('success');
    } else {
      const signed = real.channels.wechat.server.transactionNotification(outTradeNo);
      sentSignatures.push(signed.headers['Wechatpay-Signature'] ?? signed.headers['wechatpay-signature'] ?? '');
      expect((await postFrom('127.0.0.1', notify.wechat, signed.headers, signed.body)).status).toBe(204);
    }
    const refunded = await client.request<Json>('POST', '/v1/refunds', {
      payment_id: id,
      refund_no: uniqueId('R'),
      amount: '10.00',
    });
    expect(refunded.status).toBe(201);
    const refundId = String(refunded.body.id);
    await adapter.queryRefund((await container.refunds.get(refundId)) as Refund);
    await container.journal.flush();
    if (channel === 'ALIPAY') {
      const params = real.channels.alipay.server.notificationParams(id, { refundRequestNo: refundId });
      sentSignatures.push(params.sign ?? '');
      const form = new URLSearchParams(params).toString();
      const headers = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
      expect((await postFrom('127.0.0.1', notify.alipay, headers, form)).body).toBe('success');
    } else {
      real.channels.wechat.server.settleRefund(refundId, 'SUCCESS');
      const signed = real.channels.wechat.server.refundNotification(refundId);
      sentSignatures.push(signed.headers['Wechatpay-Signature'] ?? signed.headers['wechatpay-signature'] ?? '');
      expect((await postFrom('127.0.0.1', notify.wechat, signed.headers, signed.body)).status).toBe(204);
    }
    // A second payment, closed by the merchant.
    const closable = await createQrPayment(client, { channel, amount: '5.00' });
    const closed = await client.request<Json>('POST', `/v1/payments/${closable.body.id}/close`);
    expect(closed.status).toBe(200);
    return { id, refundId, closedId: String(closable.body.id), sentSignatures };
  }

  const journalOf = (paymentId: string) =>
    new DynamoChannelJournal(real.table.db, real.table.tableName, 180).listByPayment(paymentId);

  /** Every secret the stack holds, as text that must never appear in a journal entry. */
  function secrets(): string[] {
    // Each PEM body line (64 base64 characters; the short last one is too common a string to test).
    const body = (pem: string) => pem.split('\n').filter((line) => line.length >= 32 && !line.startsWith('-----'));
    const { alipay, wechat } = real.channels;
    return [
      ...body(alipay.secret.appPrivateKeyPem),
      ...body(alipay.secret.alipayPublicKeyPem),
      ...body(wechat.config.merchantPrivateKeyPem),
      ...Object.values(wechat.config.platformKeys).flatMap(body),
      wechat.config.apiV3Key,
    ];
  }

  for (const channel of ['ALIPAY', 'WECHAT_PAY'] as const) {
    it(`records create, query, callback, refund, refund query, refund callback and close at ${channel}, redacted`, async () => {
      const { id, refundId, closedId, sentSignatures } = await exchangeEverything(channel);
      const entries = await journalOf(id);
      const operations = (list: JournalEntry[]) => list.map((entry) => entry.operation);
      expect(operations(entries)).toEqual(
        expect.arrayContaining(['create', 'query', 'callback', 'refund', 'query_refund']),
      );
      expect(entries.filter((entry) => entry.operation === 'callback')).toHaveLength(2);
      expect(operations(await journalOf(closedId))).toEqual(expect.arrayContaining(['create', 'close']));
      for (const entry of entries) {
        expect(entry).toMatchObject({ channel, paymentId: id, outcome: 'OK' });
        expect(entry.latencyMs).toBeGreaterThanOrEqual(0);
        expect(entry.httpStatus).toBeGreaterThanOrEqual(200);
        expect(entry.request).toBeTruthy();
        if (entry.operation === 'refund' || entry.operation === 'query_refund') expect(entry.refundId).toBe(refundId);
      }
      expect(entries.find((entry) => entry.operation === 'query')?.channelTradeNo).toBeTruthy();

      // The secret scan: no key, no signature (ours, the channel's, or any long base64 run), no full payer id.
      const text = JSON.stringify([...entries, ...(await journalOf(closedId))]);
      for (const secret of [...secrets(), ...sentSignatures]) {
        expect(secret.length).toBeGreaterThan(10);
        expect(text).not.toContain(secret);
      }
      expect(text).not.toMatch(/[A-Za-z0-9+/]{120,}/);
      expect(text).toContain('[REDACTED]');
      expect(text).not.toContain(LOCAL_BUYER.buyerId);

      // The merchant sees the attempts, not the bodies; operators see everything through the CLI.
      const payment = await client.request<{ channel_attempts: Json[] }>('GET', `/v1/payments/${id}`);
      expect(payment.body.channel_attempts.length).toBe(entries.length);
      expect(payment.body.channel_attempts[0]).toEqual({
        at: expect.any(String),
        operation: 'create',
        channel,
        refund_id: null,
        outcome: 'OK',
        http_status: 200,
        latency_ms: expect.any(Number),
        error_code: null,
      });
      let out = '';
      const code = await runCli(journalCli, ['show', '--payment', id], {
        stdout: (line) => {
          out += line;
        },
        stderr: () => undefined,
      });
      expect(code).toBe(0);
      const lines = out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Json);
      expect(lines.map((line) => line.operation)).toEqual(operations(entries));
      expect(lines[0]).toHaveProperty('payment_id', id);
    });
  }

  it('journal show refuses a missing --payment (usage, exit 2) and exits 1 for a payment without entries', async () => {
    const quiet = { stdout: () => undefined, stderr: () => undefined };
    expect(await runCli(journalCli, ['show'], quiet)).toBe(2);
    expect(await runCli(journalCli, ['show', '--payment', 'pay_none'], quiet)).toBe(1);
  });
});
