// Over 250 lines: every Alipay operation against the local protocol server, with its failure modes.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlipaySdk } from 'alipay-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlipayChannel } from '#adapters/channels/alipay/alipay-channel.ts';
import {
  AlipayBusinessError,
  AlipayResponseInvalidError,
  AlipayUnavailableError,
} from '#adapters/channels/alipay/errors.ts';
import { loadPublicKey, verifyRequest } from '#adapters/channels/alipay/signing.ts';
import type { AlipayConfig } from '#domain/channel-config.ts';
import { type ChannelPaymentResult, decideResult, type Payment } from '#domain/payment.ts';
import type { Refund } from '#domain/refund.ts';
import { type LocalAlipayServer, startAlipayServer } from '../support/channels/alipay-server.ts';
import { paymentFixture, refundFixture } from '../support/domain-fixtures.ts';

const pem = () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};
const APP_ID = '2021000000000042';
const appKeys = pem();
const alipayKeys = pem();

let server: LocalAlipayServer;
let receiver: Server;
let config: AlipayConfig;
let channel: AlipayChannel;

function payment(overrides: Partial<Payment> = {}): Payment {
  return paymentFixture({ merchantId: 'm_1', subject: '钱包充值 top-up', channel: 'ALIPAY', ...overrides });
}

function refundOf(paid: Payment, amountMinor: number): Refund {
  return refundFixture(paid, amountMinor);
}

/** A precreated QR payment, optionally paid by the buyer. */
async function created(paid = false): Promise<Payment> {
  const created = payment();
  await channel.createPayment(created);
  if (paid) server.pay(created.id);
  return created;
}

beforeAll(async () => {
  server = await startAlipayServer({
    appId: APP_ID,
    appPublicKeyPem: appKeys.publicKey,
    alipayPrivateKeyPem: alipayKeys.privateKey,
  });
  // The gateway's callback route in miniature: verify + parse, then answer in Alipay's protocol.
  receiver = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let answer: ReturnType<AlipayChannel['answerCallback']>;
    try {
      const callback = await channel.verifyAndParseCallback({ headers: {}, body });
      res.setHeader('x-callback', JSON.stringify(callback));
      answer = channel.answerCallback({ ok: true });
    } catch (error) {
      answer = channel.answerCallback({ ok: false, error });
    }
    res.writeHead(answer.statusCode, answer.headers).end(answer.body);
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  config = {
    appId: APP_ID,
    gatewayUrl: server.url,
    notifyUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/callbacks/alipay`,
    appPrivateKeyPem: appKeys.privateKey,
    alipayPublicKeyPem: alipayKeys.publicKey,
  };
  channel = new AlipayChannel(config);
});

afterAll(async () => {
  await server?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

afterEach(() => {
  for (const method of Object.keys(server.behaviours)) delete server.behaviours[method as 'alipay.trade.query'];
});

describe('creating payments', () => {
  it('supports QR, PAGE and WAP in CNY only', () => {
    expect(['QR', 'PAGE', 'WAP'].map((method) => channel.supports(method as Payment['method'], 'CNY'))).toEqual([
      true,
      true,
      true,
    ]);
    expect(channel.supports('QR', 'USD')).toBe(false);
    expect(channel.supports('JSAPI', 'CNY')).toBe(false);
  });

  it('precreates a QR payment and returns its qr_code', async () => {
    const qr = payment({ amountMinor: 12345 });
    const prepay = await channel.createPayment(qr);
    expect(prepay.qrCode).toMatch(/^https:\/\/qr\.alipay\.com\//);
    const sent = server.requests.at(-1)?.params ?? {};
    expect(sent.notify_url).toBe(config.notifyUrl);
    expect(sent.timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(JSON.parse(sent.biz_content ?? '')).toMatchObject({
      out_trade_no: qr.id,
      total_amount: '123.45',
      subject: qr.subject,
      time_expire: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
    });
  });

  it('returns a signed gateway URL for PAGE and WAP without calling Alipay', async () => {
    for (const method of ['PAGE', 'WAP'] as const) {
      const before = server.requests.length;
      const { payUrl } = await channel.createPayment(payment({ method, returnUrl: 'https://shop.example/back' }));
      expect(server.requests.length).toBe(before);
      const params = Object.fromEntries(new URL(payUrl ?? '').searchParams);
      expect(params.method).toBe(method === 'PAGE' ? 'alipay.trade.page.pay' : 'alipay.trade.wap.pay');
      expect(params.return_url).toBe('https://shop.example/back');
      expect(verifyRequest(params, loadPublicKey(appKeys.publicKey))).toBe(true);
      // The buyer's browser opens it: the local cashier accepts the signature and opens the trade.
      expect((await fetch(payUrl ?? '')).status).toBe(200);
    }
  });
});

describe('querying and closing', () => {
  it('reports nothing final for an unpaid or unknown trade', async () => {
    expect(await channel.queryPayment(await created())).toBeUndefined();
    expect(await channel.queryPayment(payment())).toBeUndefined();
  });

  it('reports a paid trade with its amount, trade_no and paid-at in UTC', async () => {
    const paid = await created(true);
    const result = await channel.queryPayment(paid);
    const trade = server.trades.get(paid.id);
    expect(result).toEqual({
      paymentId: paid.id,
      status: 'SUCCEEDED',
      amountMinor: 10000,
      currency: 'CNY',
      channelTradeNo: trade?.tradeNo,
      paidAt: new Date(Math.floor((trade?.paidAt?.getTime() ?? 0) / 1000) * 1000).toISOString(),
    });
  });

  it('closes an unpaid trade, an unknown one, and one already closed', async () => {
    const open = await created();
    expect(await channel.closePayment(open)).toBe('closed');
    expect(server.trades.get(open.id)?.status).toBe('TRADE_CLOSED');
    expect(await channel.closePayment(open)).toBe('closed');
    expect(await channel.closePayment(payment())).toBe('closed');
  });

  it('answers paid when the buyer paid before the close', async () => {
    expect(await channel.closePayment(await created(true))).toBe('paid');
    server.behaviours['alipay.trade.close'] = { kind: 'business-error', subCode: 'ACQ.TRADE_HAS_SUCCESS' };
    expect(await channel.closePayment(await created())).toBe('paid');
  });
});

describe('refunds', () => {
  it('refunds synchronously, treats a resubmission as processing, and confirms it by query', async () => {
    const paid = await created(true);
    const refund = refundOf(paid, 3000);
    expect(await channel.refund(refund, paid)).toEqual({ status: 'SUCCEEDED' });
    expect(await channel.refund(refund, paid)).toEqual({ status: 'PROCESSING' });
    expect(await channel.queryRefund(refund)).toEqual({ refundId: refund.id, status: 'SUCCEEDED' });
    expect(await channel.queryRefund(refundOf(paid, 100))).toBeUndefined();
    expect(await channel.refund(refundOf(paid, 9000), paid)).toEqual({ status: 'FAILED' });
  });

  it('cannot turn a fully refunded payment into anything else through TRADE_CLOSED', async () => {
    const paid = await created(true);
    await channel.refund(refundOf(paid, 10000), paid);
    const result = await channel.queryPayment(paid);
    expect(result).toMatchObject({ status: 'FAILED', amountMinor: 10000 });
    const refunded: Payment = { ...paid, status: 'REFUNDED', refundedMinor: 10000 };
    expect(decideResult(refunded, result as ChannelPaymentResult, new Date())).toEqual({ kind: 'duplicate' });
  });
});

describe('async notifications', () => {
  it('parses a verified payment notification and answers success', async () => {
    const paid = await created(true);
    const answer = await server.sendNotification(config.notifyUrl, paid.id);
    expect(answer).toEqual({ status: 200, body: 'success' });
    const body = new URLSearchParams(server.notificationParams(paid.id)).toString();
    expect(await channel.verifyAndParseCallback({ headers: {}, body })).toEqual({
      kind: 'payment',
      result: {
        paymentId: paid.id,
        status: 'SUCCEEDED',
        amountMinor: 10000,
        currency: 'CNY',
        channelTradeNo: server.trades.get(paid.id)?.tradeNo,
        paidAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/),
      },
    });
  });

  it('rejects a forged notification with CALLBACK_SIGNATURE_INVALID and answers fail', async () => {
    const paid = await created(true);
    const forged = { ...server.notificationParams(paid.id), total_amount: '0.01' };
    const body = new URLSearchParams(forged).toString();
    await expect(channel.verifyAndParseCallback({ headers: {}, body })).rejects.toMatchObject({
      code: 'CALLBACK_SIGNATURE_INVALID',
      httpStatus: 401,
    });
    const posted = await fetch(config.notifyUrl, { method: 'POST', body });
    expect(await posted.text()).toBe('fail');
  });

  it('rejects a notification for another app_id', async () => {
    const paid = await created(true);
    const other = new AlipayChannel({ ...config, appId: '2021000000009999' });
    const body = new URLSearchParams(server.notificationParams(paid.id)).toString();
    await expect(other.verifyAndParseCallback({ headers: {}, body })).rejects.toMatchObject({
      code: 'CALLBACK_APP_MISMATCH',
    });
  });

  it('acknowledges a WAIT_BUYER_PAY notification without anything to apply', async () => {
    const open = await created();
    const body = new URLSearchParams(server.notificationParams(open.id)).toString();
    expect(await channel.verifyAndParseCallback({ headers: {}, body })).toEqual({
      kind: 'ignored',
      reason: 'trade_status WAIT_BUYER_PAY is not final',
    });
    expect(await server.sendNotification(config.notifyUrl, open.id)).toEqual({ status: 200, body: 'success' });
  });

  it('maps a refund notification to the refund result', async () => {
    const paid = await created(true);
    const refund = refundOf(paid, 10000);
    await channel.refund(refund, paid);
    const body = new URLSearchParams(server.notificationParams(paid.id, { refundRequestNo: refund.id })).toString();
    expect(await channel.verifyAndParseCallback({ headers: {}, body })).toEqual({
      kind: 'refund',
      result: { refundId: refund.id, status: 'SUCCEEDED' },
    });
  });
});

describe('failures', () => {
  it('surfaces HTTP 500 and a hang as AlipayUnavailableError', async () => {
    server.behaviours['alipay.trade.query'] = { kind: 'http-500' };
    await expect(channel.queryPayment(payment())).rejects.toMatchObject({ reason: 'http_status', upstreamStatus: 500 });
    server.behaviours['alipay.trade.query'] = { kind: 'hang' };
    const impatient = new AlipayChannel(config, { timeoutMs: 300 });
    const error = await impatient.queryPayment(payment()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AlipayUnavailableError);
    expect(error).toMatchObject({ reason: 'timeout', code: 'CHANNEL_UNAVAILABLE', httpStatus: 503 });
  });

  it('surfaces "system busy" as unavailable and other business errors as AlipayBusinessError', async () => {
    server.behaviours['alipay.trade.precreate'] = { kind: 'business-error', subCode: 'ACQ.SYSTEM_ERROR' };
    await expect(channel.createPayment(payment())).rejects.toMatchObject({ reason: 'system_error' });
    server.behaviours['alipay.trade.precreate'] = { kind: 'business-error', subCode: 'ACQ.ACCESS_FORBIDDEN' };
    await expect(channel.createPayment(payment())).rejects.toBeInstanceOf(AlipayBusinessError);
  });

  it('rejects a response whose signature does not verify', async () => {
    server.behaviours['alipay.trade.query'] = { kind: 'bad-signature' };
    const error = await channel.queryPayment(await created(true)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AlipayResponseInvalidError);
    expect(error).toMatchObject({ message: expect.stringContaining('signature does not verify') });
  });

  it('is refused by the server when the request is signed with the wrong key', async () => {
    const wrong = new AlipayChannel({ ...config, appPrivateKeyPem: pem().privateKey });
    await expect(wrong.queryPayment(payment())).rejects.toMatchObject({
      details: { channel: 'ALIPAY', channel_code: 'isv.invalid-signature' },
    });
  });

  it('retries a failed config load on the next call', async () => {
    let loads = 0;
    const lazy = new AlipayChannel(async () => {
      loads += 1;
      if (loads === 1) throw new Error('secret store down');
      return config;
    });
    await expect(lazy.queryPayment(payment())).rejects.toThrow('secret store down');
    expect(await lazy.queryPayment(payment())).toBeUndefined();
  });
});

describe('interoperability with the official alipay-sdk', () => {
  it('the local server accepts the SDK request signature and the SDK accepts the server response signature', async () => {
    const paid = await created(true);
    const sdk = new AlipaySdk({
      appId: APP_ID,
      privateKey: appKeys.privateKey,
      keyType: 'PKCS8',
      alipayPublicKey: alipayKeys.publicKey,
      gateway: server.url,
    });
    const answer = await sdk.exec(
      'alipay.trade.query',
      { bizContent: { out_trade_no: paid.id } },
      { validateSign: true },
    );
    expect(answer).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', totalAmount: '100.00' });
  });
});
