// The callback source allowlists and the channel message journal, against the local Alipay and WeChat Pay servers.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoChannelProfileRepository } from '#adapters/dynamo/channel-profile-repository.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import type { MerchantClient } from '../../local/merchant-client.ts';
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
