import { describe, expect, it, vi } from 'vitest';
import {
  fromWechatTime,
  mapRefundStatus,
  mapTradeState,
  outTradeNoOf,
  paymentIdOf,
  toPaymentResult,
  toRefundResult,
  toWechatTime,
} from '#adapters/channels/wechat-pay/transformers.ts';
import { logger } from '#shared/observability.ts';

describe('WeChat Pay trade_state mapping', () => {
  it.each([
    ['SUCCESS', 'SUCCEEDED'],
    ['REFUND', 'SUCCEEDED'],
    ['NOTPAY', undefined],
    ['USERPAYING', undefined],
    ['CLOSED', 'FAILED'],
    ['REVOKED', 'FAILED'],
    ['PAYERROR', 'FAILED'],
  ])('maps %s to %s', (state, status) => {
    expect(mapTradeState(state)).toBe(status);
  });

  it('treats an undocumented state as not final and logs it', () => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    expect(mapTradeState('ACCEPT')).toBeUndefined();
    expect(mapTradeState('toString')).toBeUndefined();
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('trade_state'), { trade_state: 'ACCEPT' });
    warn.mockRestore();
  });

  it('never turns a refunded (so paid) order into a failure', () => {
    const result = toPaymentResult({
      appid: 'wx1',
      mchid: '1900000109',
      out_trade_no: 'abcdef123456',
      transaction_id: '4200000001',
      trade_state: 'REFUND',
      success_time: '2026-11-22T18:00:01+08:00',
      amount: { total: 10000, currency: 'CNY' },
    });
    expect(result).toEqual({
      paymentId: 'pay_abcdef123456',
      status: 'SUCCEEDED',
      amountMinor: 10000,
      currency: 'CNY',
      channelTradeNo: '4200000001',
      paidAt: '2026-11-22T10:00:01.000Z',
    });
  });
});

describe('WeChat Pay refund status mapping', () => {
  it.each([
    ['SUCCESS', 'SUCCEEDED'],
    ['CLOSED', 'FAILED'],
    ['ABNORMAL', 'FAILED'],
    ['PROCESSING', undefined],
    ['SOMETHING_NEW', undefined],
  ])('maps %s to %s', (status, expected) => {
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    expect(mapRefundStatus(status)).toBe(expected);
    warn.mockRestore();
  });

  it('reports the gateway refund id and the WeChat refund id', () => {
    expect(toRefundResult({ out_refund_no: 'ref_1', refund_id: '5000', status: 'SUCCESS' })).toEqual({
      refundId: 'ref_1',
      status: 'SUCCEEDED',
      channelRefundNo: '5000',
    });
    expect(toRefundResult({ out_refund_no: 'ref_1', refund_id: '5000', status: 'PROCESSING' })).toBeUndefined();
  });
});

describe('WeChat Pay identifiers and times', () => {
  it('uses the payment id without its prefix as out_trade_no, and back', () => {
    const id = 'pay_0123456789abcdef0123456789abcdef';
    expect(outTradeNoOf(id)).toBe('0123456789abcdef0123456789abcdef');
    expect(paymentIdOf(outTradeNoOf(id))).toBe(id);
    expect(() => outTradeNoOf('ref_0123456789abcdef')).toThrow();
    expect(() => outTradeNoOf(`pay_${'a'.repeat(33)}`)).toThrow();
  });

  it('writes expiry times in Beijing time and reads any offset as UTC', () => {
    expect(toWechatTime('2026-11-22T16:30:00.999Z')).toBe('2026-11-23T00:30:00+08:00');
    expect(fromWechatTime('2026-11-23T00:30:00+08:00')).toBe('2026-11-22T16:30:00.000Z');
    expect(fromWechatTime('2026-11-22T16:30:00Z')).toBe('2026-11-22T16:30:00.000Z');
  });
});
