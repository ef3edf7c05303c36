import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptResource } from '#adapters/channels/wechat-pay/crypto.ts';
import { rsaSign } from '#adapters/channels/wechat-pay/signing.ts';
import { AppError } from '#shared/errors.ts';
import {
  type LocalWechatPay,
  PUB_KEY_ID,
  paidWechatPayment,
  startLocalWechatPay,
  wechatRefund,
} from '../support/wechat-pay.ts';

let local: LocalWechatPay;
const outTradeNo = (id: string) => id.slice('pay_'.length);

beforeAll(async () => {
  local = await startLocalWechatPay();
});
afterAll(() => local.server.stop());

/** A callback signed with the real platform key around an arbitrary encrypted resource. */
function signedCallback(eventType: string, resource: unknown) {
  const body = JSON.stringify({
    id: 'EV-1',
    create_time: '2026-11-22T18:00:00+08:00',
    resource_type: 'encrypt-resource',
    event_type: eventType,
    resource,
  });
  const timestamp = String(Math.floor(Date.now() / 1000));
  const headers = {
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': 'n1',
    'wechatpay-serial': PUB_KEY_ID,
    'wechatpay-signature': rsaSign(local.platform.privateKey, `${timestamp}\nn1\n${body}\n`),
  };
  return { headers, body };
}

describe('WeChat Pay callbacks', () => {
  it('parses a verified TRANSACTION.SUCCESS callback into a payment result', async () => {
    const paid = await paidWechatPayment(local);
    const order = local.server.orders.get(outTradeNo(paid.id));
    const callback = await local.channel.verifyAndParseCallback(
      local.server.transactionNotification(outTradeNo(paid.id)),
    );
    expect(callback).toEqual({
      kind: 'payment',
      result: {
        paymentId: paid.id,
        status: 'SUCCEEDED',
        amountMinor: 10000,
        currency: 'CNY',
        channelTradeNo: order?.transaction_id,
        paidAt: new Date(order?.success_time ?? '').toISOString(),
      },
    });
  });

  it.each([
    ['SUCCESS', 'SUCCEEDED'],
    ['ABNORMAL', 'FAILED'],
    ['CLOSED', 'FAILED'],
  ] as const)('parses a REFUND.%s callback into a %s refund result', async (status, expected) => {
    const paid = await paidWechatPayment(local);
    const refund = wechatRefund(paid, 10000);
    const submitted = await local.channel.refund(refund, paid);
    local.server.settleRefund(refund.id, status);
    const callback = await local.channel.verifyAndParseCallback(local.server.refundNotification(refund.id));
    expect(callback).toEqual({
      kind: 'refund',
      result: { refundId: refund.id, status: expected, channelRefundNo: submitted.channelRefundNo },
    });
  });

  it('rejects a forged callback with 401 CALLBACK_SIGNATURE_INVALID and answers it with a JSON failure', async () => {
    const genuine = local.server.transactionNotification(outTradeNo((await paidWechatPayment(local)).id));
    const forged = {
      headers: genuine.headers,
      body: genuine.body.replace('"encrypt-resource"', '"encrypt-resource "'),
    };
    const error = await local.channel.verifyAndParseCallback(forged).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ httpStatus: 401, code: 'CALLBACK_SIGNATURE_INVALID' });
    expect(local.channel.answerCallback({ ok: false, error })).toEqual({
      statusCode: 401,
      headers: { 'content-type': 'application/json' },
      body: '{"code":"FAIL","message":"CALLBACK_SIGNATURE_INVALID"}',
    });
    expect(local.channel.answerCallback({ ok: false, error: new Error('boom') }).statusCode).toBe(500);
    expect(local.channel.answerCallback({ ok: true })).toEqual({ statusCode: 204, body: '' });
  });

  it('rejects a signed callback whose resource was not encrypted with the API v3 key', async () => {
    const resource = encryptResource('{"mchid":"1900000109"}', 'z'.repeat(32), 'abcdefghijkl', 'transaction');
    await expect(
      local.channel.verifyAndParseCallback(signedCallback('TRANSACTION.SUCCESS', resource)),
    ).rejects.toMatchObject({ httpStatus: 401, code: 'CALLBACK_SIGNATURE_INVALID' });
  });

  it('rejects a signed callback for another merchant account, and an event type it does not handle', async () => {
    const order = {
      appid: local.config.appId,
      mchid: '1900000999',
      out_trade_no: 'abcdef123456',
      transaction_id: '4200000001',
      trade_state: 'SUCCESS',
      success_time: '2026-11-22T18:00:00+08:00',
      amount: { total: 1, currency: 'CNY' },
    };
    const sealed = (value: unknown) =>
      encryptResource(JSON.stringify(value), local.config.apiV3Key, 'abcdefghijkl', 'transaction');
    await expect(
      local.channel.verifyAndParseCallback(signedCallback('TRANSACTION.SUCCESS', sealed(order))),
    ).rejects.toMatchObject({ httpStatus: 401, code: 'CALLBACK_SIGNATURE_INVALID' });
    await expect(
      local.channel.verifyAndParseCallback(signedCallback('MCHTRANSFER.BILL.FINISHED', sealed({}))),
    ).rejects.toMatchObject({ httpStatus: 400, code: 'CALLBACK_EVENT_UNSUPPORTED' });
  });

  it('delivers a callback over HTTP to a receiver that answers with the channel protocol', async () => {
    const { channel, server } = local;
    const receiver = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const answer = await channel.verifyAndParseCallback({ headers, body }).then(
        () => channel.answerCallback({ ok: true }),
        (error: unknown) => channel.answerCallback({ ok: false, error }),
      );
      res.writeHead(answer.statusCode, answer.headers).end(answer.body);
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    const address = receiver.address();
    const url = `http://127.0.0.1:${typeof address === 'object' ? address?.port : 0}/notify`;
    try {
      const paid = await paidWechatPayment(local);
      expect(await server.sendTransactionNotification(url, outTradeNo(paid.id))).toEqual({ status: 204, body: '' });
    } finally {
      receiver.close();
    }
  });
});
