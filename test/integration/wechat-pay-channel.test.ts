import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  WechatPayBusinessError,
  WechatPayResponseInvalidError,
  WechatPayUnavailableError,
} from '#adapters/channels/wechat-pay/errors.ts';
import { jsapiPayMessage, rsaVerify } from '#adapters/channels/wechat-pay/signing.ts';
import { WechatPayChannel } from '#adapters/channels/wechat-pay/wechat-pay-channel.ts';
import {
  type LocalWechatPay,
  paidWechatPayment,
  wechatPayment as payment,
  pem,
  startLocalWechatPay,
  wechatRefund,
} from '../support/wechat-pay.ts';

let local: LocalWechatPay;
const outTradeNo = (id: string) => id.slice('pay_'.length);

beforeAll(async () => {
  local = await startLocalWechatPay();
});
afterAll(() => local.server.stop());
afterEach(() => {
  for (const key of Object.keys(local.server.behaviours)) {
    delete local.server.behaviours[key as keyof typeof local.server.behaviours];
  }
});

describe('WeChat Pay channel against the local WeChat Pay server', () => {
  it('supports Native QR, JSAPI and H5 in CNY only', () => {
    const { channel } = local;
    expect(['QR', 'JSAPI', 'H5'].every((method) => channel.supports(method as 'QR', 'CNY'))).toBe(true);
    expect(channel.supports('QR', 'USD') || channel.supports('PAGE', 'CNY') || channel.supports('BALANCE', 'CNY')).toBe(
      false,
    );
  });

  it('creates a Native order and returns its code_url as the QR code', async () => {
    const created = payment();
    const prepay = await local.channel.createPayment(created);
    expect(prepay).toEqual({ qrCode: expect.stringMatching(/^weixin:\/\/wxpay\/bizpayurl\?pr=/) });
    const order = local.server.orders.get(outTradeNo(created.id));
    expect(order).toMatchObject({ trade_type: 'NATIVE', amount: { total: 10000, currency: 'CNY' } });
    expect(order?.notify_url).toBe(local.config.notifyUrl);
    expect(order?.time_expire).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
  });

  it('returns JSAPI pay parameters signed with the merchant key, taking the openid from metadata', async () => {
    const prepay = await local.channel.createPayment(
      payment({ method: 'JSAPI', metadata: { wechat_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } }),
    );
    const params = prepay.clientParams ?? {};
    expect(prepay.qrCode).toBeUndefined();
    expect(params).toMatchObject({
      appId: local.config.appId,
      package: expect.stringMatching(/^prepay_id=wx/),
      signType: 'RSA',
    });
    const message = jsapiPayMessage(
      String(params.appId),
      String(params.timeStamp),
      String(params.nonceStr),
      String(params.package),
    );
    expect(rsaVerify(local.merchant.publicKey, message, String(params.paySign))).toBe(true);
    await expect(local.channel.createPayment(payment({ method: 'JSAPI' }))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('returns the H5 page as payUrl, with the payer IP from metadata', async () => {
    const prepay = await local.channel.createPayment(payment({ method: 'H5', metadata: { client_ip: '203.0.113.7' } }));
    expect(prepay.payUrl).toMatch(/^https:\/\/wx\.tenpay\.com\//);
    await expect(local.channel.createPayment(payment({ method: 'H5' }))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('queries an unpaid order as not final and a paid one as succeeded', async () => {
    const created = payment();
    expect(await local.channel.queryPayment(created)).toBeUndefined(); // not even registered yet
    await local.channel.createPayment(created);
    expect(await local.channel.queryPayment(created)).toBeUndefined();
    const order = local.server.pay(outTradeNo(created.id));
    expect(await local.channel.queryPayment(created)).toEqual({
      paymentId: created.id,
      status: 'SUCCEEDED',
      amountMinor: 10000,
      currency: 'CNY',
      channelTradeNo: order.transaction_id,
      paidAt: new Date(order.success_time ?? '').toISOString(),
    });
  });

  it('closes an unpaid order, and answers paid for an order the payer paid first', async () => {
    const open = payment();
    await local.channel.createPayment(open);
    expect(await local.channel.closePayment(open)).toBe('closed');
    expect(local.server.orders.get(outTradeNo(open.id))?.trade_state).toBe('CLOSED');
    expect(await local.channel.queryPayment(open)).toMatchObject({ status: 'FAILED' });
    expect(await local.channel.closePayment(await paidWechatPayment(local))).toBe('paid');
  });

  it('submits a refund as processing and reads its outcome by query; the payment stays succeeded', async () => {
    const paid = await paidWechatPayment(local);
    const refund = wechatRefund(paid, 3000);
    const submitted = await local.channel.refund(refund, paid);
    expect(submitted).toEqual({ status: 'PROCESSING', channelRefundNo: expect.stringMatching(/^5\d+$/) });
    expect(local.server.refunds.get(refund.id)?.amount).toEqual({ refund: 3000, total: 10000, currency: 'CNY' });
    expect(await local.channel.queryRefund(refund)).toBeUndefined();
    local.server.settleRefund(refund.id, 'SUCCESS');
    expect(await local.channel.queryRefund(refund)).toEqual({
      refundId: refund.id,
      status: 'SUCCEEDED',
      channelRefundNo: submitted.channelRefundNo,
    });
    expect(await local.channel.queryPayment(paid)).toMatchObject({ status: 'SUCCEEDED' });
  });
});

describe('WeChat Pay failures', () => {
  it('surfaces HTTP 500 and timeouts as WechatPayUnavailableError', async () => {
    local.server.behaviours.native = 'http500';
    await expect(local.channel.createPayment(payment())).rejects.toMatchObject({
      constructor: WechatPayUnavailableError,
      reason: 'http_status',
      upstreamStatus: 500,
    });
    local.server.behaviours.query = 'hang';
    const impatient = new WechatPayChannel(async () => local.config, { timeoutMs: 500 });
    await expect(impatient.queryPayment(payment())).rejects.toMatchObject({
      constructor: WechatPayUnavailableError,
      reason: 'timeout',
    });
  });

  it('surfaces an unreachable server as WechatPayUnavailableError', async () => {
    const unreachable = new WechatPayChannel({ ...local.config, baseUrl: 'http://127.0.0.1:1' }, { timeoutMs: 500 });
    await expect(unreachable.createPayment(payment())).rejects.toMatchObject({
      constructor: WechatPayUnavailableError,
      reason: 'network',
    });
  });

  it('rejects an answer whose signature does not verify, and one signed under an unknown serial', async () => {
    local.server.behaviours.native = 'badSignature';
    await expect(local.channel.createPayment(payment())).rejects.toBeInstanceOf(WechatPayResponseInvalidError);
    delete local.server.behaviours.native;
    const stranger = new WechatPayChannel({
      ...local.config,
      platformKeys: { PUB_KEY_ID_OTHER: pem(local.platform.publicKey, 'spki') },
    });
    await expect(stranger.createPayment(payment())).rejects.toThrow(/unknown Wechatpay-Serial/);
  });

  it('surfaces a WeChat Pay business error with its code', async () => {
    local.server.behaviours.refund = { businessError: { status: 403, code: 'NOT_ENOUGH', message: '余额不足' } };
    const paid = await paidWechatPayment(local);
    await expect(local.channel.refund(wechatRefund(paid, 100), paid)).rejects.toMatchObject({
      constructor: WechatPayBusinessError,
      wechatCode: 'NOT_ENOUGH',
      code: 'CHANNEL_REJECTED',
    });
  });

  it('is refused with SIGN_ERROR when it signs with a key WeChat Pay does not know', async () => {
    const impostor = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const wrong = new WechatPayChannel({ ...local.config, merchantPrivateKeyPem: pem(impostor.privateKey, 'pkcs8') });
    await expect(wrong.createPayment(payment())).rejects.toMatchObject({
      wechatCode: 'SIGN_ERROR',
      upstreamStatus: 401,
    });
  });
});
