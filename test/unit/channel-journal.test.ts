import { describe, expect, it } from 'vitest';
import { journaled } from '#adapters/channels/journaling.ts';
import { DynamoChannelJournal } from '#adapters/dynamo/channel-journal.ts';
import { createDocumentClient } from '#adapters/dynamo/client.ts';
import type { ChannelJournal } from '#app/ports.ts';
import { MAX_BODY_CHARS, redactHeaders, redactMessage } from '#domain/channel-journal.ts';
import type { Payment } from '#domain/payment.ts';
import { fakeChannel } from '../support/channel-fakes.ts';

const SIGN = 'A'.repeat(40);

describe('channel journal redaction', () => {
  it('replaces signatures and keys, masks payer ids, keeps the trade facts (form and embedded JSON)', () => {
    const form = new URLSearchParams({
      out_trade_no: 'pay_1',
      trade_no: '2025112422001',
      buyer_id: '2088102177846875',
      buyer_logon_id: '158****1562',
      sign: SIGN,
      sign_type: 'RSA2',
      biz_content: JSON.stringify({ out_trade_no: 'pay_1', total_amount: '30.00', buyer_open_id: 'o'.repeat(20) }),
    }).toString();
    const text = redactMessage(form);
    expect(text).toContain('out_trade_no=pay_1');
    expect(text).toContain('sign_type=RSA2');
    expect(text).toContain('"total_amount":"30.00"');
    expect(text).toContain('sign=[REDACTED]');
    expect(text).toContain('buyer_id=20***75');
    expect(text).not.toContain(SIGN);
    expect(text).not.toContain('2088102177846875');
    expect(text).not.toContain('o'.repeat(20));
  });

  it('walks JSON: nested payer objects masked, ciphertext and api keys replaced', () => {
    const text = redactMessage(
      JSON.stringify({
        alipay_trade_query_response: { code: '10000', buyer_user_id: '2088102177846875', trade_status: 'X' },
        sign: SIGN,
        payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
        resource: { algorithm: 'AEAD_AES_256_GCM', ciphertext: SIGN, nonce: 'n' },
        api_v3_key: 'k'.repeat(32),
      }),
    );
    expect(text).not.toMatch(/AAAA|kkkk|oUpF8uMuAJO_M2pxb1Q9zNjWeS6o|2088102177846875/);
    expect(JSON.parse(text)).toMatchObject({
      alipay_trade_query_response: { code: '10000', trade_status: 'X' },
      payer: { openid: 'oU***6o' },
      resource: { algorithm: 'AEAD_AES_256_GCM', ciphertext: '[REDACTED]' },
    });
  });

  it('keeps only safe callback headers, never the signature; truncates long bodies; describes unparsed ones', () => {
    expect(
      redactHeaders({ 'wechatpay-serial': 'PUB_KEY_ID_1', 'wechatpay-signature': SIGN, authorization: SIGN }),
    ).toEqual({ 'wechatpay-serial': 'PUB_KEY_ID_1', 'wechatpay-signature': '[REDACTED]' });
    expect(redactMessage(JSON.stringify({ note: 'x'.repeat(40_000) })).length).toBeLessThan(MAX_BODY_CHARS + 20);
    expect(redactMessage('<html>error</html>')).toBe('[unparsed body, 18 characters]');
  });
});

describe('the journal never blocks or fails the payment path', () => {
  it('a journal whose writes fail leaves the channel call and its answer unchanged', async () => {
    const broken = new DynamoChannelJournal(createDocumentClient(), 'no-such-table', 180);
    const channel = journaled(
      fakeChannel('ALIPAY', ['QR'], ['CNY'], async () => ({ payUrl: 'https://pay.example/x' })),
      broken,
      () => new Date(),
    );
    const answer = await channel.createPayment({ id: 'pay_x' } as Payment);
    expect(answer).toEqual({ payUrl: 'https://pay.example/x' });
    await broken.flush(); // the failed write is logged, never thrown
  });

  it('a failing channel call is recorded as ERROR and its error reaches the caller unchanged', async () => {
    const recorded: Parameters<ChannelJournal['record']>[0][] = [];
    const journal: ChannelJournal = {
      record: (entry) => recorded.push(entry),
      flush: async () => undefined,
      listByPayment: async () => [],
    };
    const failure = new Error('boom');
    const channel = journaled(
      fakeChannel('WECHAT_PAY', ['QR'], ['CNY'], () => Promise.reject(failure)),
      journal,
      () => new Date(),
    );
    await expect(channel.createPayment({ id: 'pay_y' } as Payment)).rejects.toBe(failure);
    expect(recorded).toEqual([
      expect.objectContaining({
        paymentId: 'pay_y',
        operation: 'create',
        outcome: 'ERROR',
        errorCode: 'Error',
        errorMessage: 'boom',
      }),
    ]);
  });
});
