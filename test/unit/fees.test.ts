import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FeeRule,
  type FeeSchedule,
  feeRuleFor,
  feeRuleProblems,
  nextFeeVersion,
  paymentFee,
  refundFeeReturn,
} from '#domain/fees.ts';
import { SETTLEMENT_CSV_HEADER, SettlementTally } from '#domain/settlement.ts';

const rule = (overrides: Partial<FeeRule> = {}): FeeRule => ({
  channel: 'ALIPAY',
  method: '*',
  percent: '0.6',
  fixed: '0',
  bearer: 'MERCHANT',
  ...overrides,
});
const priced = (overrides: Partial<FeeRule> = {}) => ({ rule: rule(overrides), source: 'DEFAULT@v1' });

describe('paymentFee (half up to the minor unit, capped at the amount)', () => {
  it.each([
    // [case, percent, fixed, amount, currency, fee, percent part, fixed part]
    ['0.6 % of 100.00', '0.6', '0', 10_000, 'CNY', 60, 60, 0],
    ['0.6 % of 0.83 = 0.498 → 0 (below half)', '0.6', '0', 83, 'CNY', 0, 0, 0],
    ['0.6 % of 0.84 = 0.504 → 1 (half up)', '0.6', '0', 84, 'CNY', 1, 1, 0],
    ['exactly half a fen rounds up: 0.5 % of 1.00 = 0.5', '0.5', '0', 100, 'CNY', 1, 1, 0],
    ['just below half: 0.5 % of 0.99 = 0.495', '0.5', '0', 99, 'CNY', 0, 0, 0],
    ['percentage plus fixed', '0.6', '0.10', 10_000, 'CNY', 70, 60, 10],
    ['a fixed fee alone', '0', '0.30', 1_000, 'CNY', 30, 0, 30],
    ['the fixed part is capped at what remains of the amount', '0', '0.30', 20, 'CNY', 20, 0, 20],
    ['100 % takes the whole amount, no room for the fixed part', '100', '1', 500, 'CNY', 500, 500, 0],
    ['a zero amount has no fee', '0.6', '0.10', 0, 'CNY', 0, 0, 0],
    ['JPY (exponent 0): 3.6 % of ¥1000', '3.6', '0', 1_000, 'JPY', 36, 36, 0],
    ['JPY: a fixed ¥0.4 rounds to nothing, ¥0.5 to ¥1', '0', '0.5', 1_000, 'JPY', 1, 0, 1],
    ['KWD (exponent 3): fixed 0.0005 rounds half up to 1 fils', '0', '0.0005', 1_000, 'KWD', 1, 0, 1],
    ['four fraction digits of percent', '0.3805', '0', 1_000_000, 'CNY', 3805, 3805, 0],
    ['a large amount stays exact', '0.6', '0', 9_007_199_254_740, 'CNY', 54_043_195_528, 54_043_195_528, 0],
  ])('%s', (_case, percent, fixed, amount, currency, fee, percentMinor, fixedMinor) => {
    expect(paymentFee(priced({ percent, fixed }), amount, currency)).toEqual({
      feeMinor: fee,
      percentMinor,
      fixedMinor,
      bearer: 'MERCHANT',
      source: 'DEFAULT@v1',
    });
  });

  it('no rule: no fee', () => {
    expect(paymentFee(undefined, 10_000, 'CNY')).toMatchObject({ feeMinor: 0, source: 'none' });
  });

  it('keeps the bearer of the rule', () => {
    expect(paymentFee(priced({ bearer: 'GATEWAY' }), 10_000, 'CNY')).toMatchObject({ feeMinor: 60, bearer: 'GATEWAY' });
  });

  it('never exceeds the amount and is never negative (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (amount, percentTenThousandths, fixedFen) => {
          const percent = (percentTenThousandths / 10_000).toFixed(4);
          const fixed = (fixedFen / 100).toFixed(2);
          const charge = paymentFee(priced({ percent, fixed }), amount, 'CNY');
          expect(charge.feeMinor).toBeGreaterThanOrEqual(0);
          expect(charge.feeMinor).toBeLessThanOrEqual(amount);
          expect(charge.feeMinor).toBe(charge.percentMinor + charge.fixedMinor);
        },
      ),
    );
  });
});

describe('refundFeeReturn (percentage part in proportion, rounded down; fixed part kept)', () => {
  const charge = paymentFee(priced({ percent: '0.6', fixed: '0.10' }), 10_000, 'CNY'); // 60 + 10

  it.each([
    ['a full refund returns the whole percentage part, not the fixed part', 10_000, 60],
    ['half the amount returns half', 5_000, 30],
    ['0.6 % of 33.33 = 19.998 of a fen → 19 (down)', 3_333, 19],
    ['a refund of one fen returns nothing', 1, 0],
    ['a zero refund returns nothing', 0, 0],
    ['more than the amount is capped at the amount', 20_000, 60],
  ])('%s', (_case, refund, returned) => {
    expect(refundFeeReturn(charge, 10_000, refund)).toMatchObject({
      feeMinor: returned,
      percentMinor: returned,
      fixedMinor: 0,
      bearer: 'MERCHANT',
    });
  });

  it('partial refunds never return more than was charged, and a single full refund returns exactly it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: 1, maxLength: 20 }),
        (amount, percentTenThousandths, weights) => {
          const paid = paymentFee(priced({ percent: (percentTenThousandths / 10_000).toFixed(4) }), amount, 'CNY');
          // Split the amount into refunds in proportion to the weights (the last takes what remains).
          const total = weights.reduce((sum, weight) => sum + weight, 0);
          let left = amount;
          const parts = weights.map((weight, i) => {
            const part = i === weights.length - 1 ? left : Math.min(left, Math.floor((amount * weight) / total));
            left -= part;
            return part;
          });
          const returned = parts.reduce((sum, part) => sum + refundFeeReturn(paid, amount, part).feeMinor, 0);
          expect(returned).toBeLessThanOrEqual(paid.percentMinor);
          expect(paid.percentMinor - returned).toBeLessThan(parts.length);
          expect(refundFeeReturn(paid, amount, amount).feeMinor).toBe(paid.percentMinor);
        },
      ),
    );
  });
});

describe('fee schedules: versions and rule lookup', () => {
  const now = new Date('2026-12-01T00:00:00.000Z');
  const v1 = nextFeeVersion(undefined, { rule: rule() }, now);
  const schedule: FeeSchedule = { scope: 'DEFAULT', versions: [v1] };
  const v2 = nextFeeVersion(
    schedule,
    { rule: rule({ method: 'QR', percent: '0.38' }) },
    now,
    '2026-12-05T00:00:00.000Z',
  );
  const both: FeeSchedule = { scope: 'DEFAULT', versions: [v1, v2] };

  it('numbers versions, keeps the other rules and starts each at its effective time', () => {
    expect(v1).toMatchObject({ version: 1, effectiveFrom: now.toISOString(), rules: [rule()] });
    expect(v2.version).toBe(2);
    expect(v2.rules).toEqual([rule(), rule({ method: 'QR', percent: '0.38' })]);
  });

  it.each([
    ['before any version: no rule', '2026-11-30T23:59:59.999Z', 'QR', undefined],
    ['v1 for a QR payment before v2 starts', '2026-12-04T23:59:59.999Z', 'QR', ['0.6', 'DEFAULT@v1']],
    ["v2's method rule from its start", '2026-12-05T00:00:00.000Z', 'QR', ['0.38', 'DEFAULT@v2']],
    ["v2's channel-wide rule for another method", '2026-12-06T00:00:00.000Z', 'PAGE', ['0.6', 'DEFAULT@v2']],
  ] as const)('%s', (_case, at, method, expected) => {
    const found = feeRuleFor({ default: both }, { channel: 'ALIPAY', method }, at);
    expect(found && [found.rule.percent, found.source]).toEqual(expected);
  });

  it("a merchant's rule wins over the default; the default still prices what the merchant's does not cover", () => {
    const merchant: FeeSchedule = {
      scope: 'mch_1',
      versions: [nextFeeVersion(undefined, { rule: rule({ channel: 'WECHAT_PAY', percent: '0.2' }) }, now)],
    };
    const at = '2026-12-02T00:00:00.000Z';
    expect(feeRuleFor({ merchant, default: both }, { channel: 'WECHAT_PAY', method: 'QR' }, at)?.source).toBe(
      'mch_1@v1',
    );
    expect(feeRuleFor({ merchant, default: both }, { channel: 'ALIPAY', method: 'QR' }, at)?.source).toBe('DEFAULT@v1');
    expect(feeRuleFor({ merchant, default: both }, { channel: 'SANDBOX', method: 'QR' }, at)).toBeUndefined();
  });

  it.each([
    ['an effective time in the past', { rule: rule() }, '2026-11-30T00:00:00.000Z', /past/],
    ['an effective time before the latest version', { rule: rule() }, '2026-12-04T00:00:00.000Z', /precede/],
    ['a negative percent', { rule: rule({ percent: '-1' }) }, undefined, /percent/],
    ['over 100 percent', { rule: rule({ percent: '100.01' }) }, undefined, /percent/],
    ['five fraction digits', { rule: rule({ percent: '0.12345' }) }, undefined, /percent/],
    ['a fixed fee with an exponent', { rule: rule({ fixed: '1e2' }) }, undefined, /fixed/],
    [
      'removing a rule that does not exist',
      { rule: rule({ channel: 'SANDBOX' }), remove: true as const },
      undefined,
      /no such rule/,
    ],
  ])('refuses %s', (_case, change, effectiveFrom, message) => {
    expect(() => nextFeeVersion(effectiveFrom ? both : schedule, change, now, effectiveFrom)).toThrow(message);
  });

  it('removes a rule from a new version on', () => {
    const v3 = nextFeeVersion(both, { rule: { channel: 'ALIPAY', method: 'QR' }, remove: true }, now, v2.effectiveFrom);
    expect(v3).toMatchObject({ version: 3, rules: [rule()] });
  });

  it('validates every field of a rule', () => {
    expect(feeRuleProblems(rule())).toEqual([]);
    expect(feeRuleProblems({ ...rule(), bearer: 'PAYER' as never, method: 'FAX' as never })).toHaveLength(2);
  });
});

describe('SettlementTally', () => {
  const fee = (feeMinor: number, bearer: 'MERCHANT' | 'GATEWAY' = 'MERCHANT') => ({
    feeMinor,
    percentMinor: feeMinor,
    fixedMinor: 0,
    bearer,
    source: 'DEFAULT@v1',
  });

  it('sums per merchant and currency: gross, refunds, channel fees, merchant fees net of returns, net', () => {
    const tally = new SettlementTally();
    tally.add({
      kind: 'PAYMENT',
      merchantId: 'mch_b',
      currency: 'CNY',
      amountMinor: 10_000,
      channelFeeMinor: 60,
      merchantFee: fee(70),
    });
    tally.add({
      kind: 'PAYMENT',
      merchantId: 'mch_b',
      currency: 'CNY',
      amountMinor: 5_000,
      channelFeeMinor: 30,
      merchantFee: fee(30, 'GATEWAY'),
    });
    tally.add({
      kind: 'REFUND',
      merchantId: 'mch_b',
      currency: 'CNY',
      amountMinor: 2_000,
      channelFeeMinor: -12,
      merchantFee: fee(12),
    });
    tally.add({
      kind: 'PAYMENT',
      merchantId: 'mch_a',
      currency: 'JPY',
      amountMinor: 1_000,
      channelFeeMinor: 0,
      merchantFee: fee(0),
    });
    expect(tally.csv()).toBe(
      [
        SETTLEMENT_CSV_HEADER,
        'mch_a,JPY,1,1000,0,0,0,0,0,1000',
        // gross 150.00 − refunds 20.00 − merchant fees (0.70 − 0.12) = 129.42; 0.30 borne by the gateway
        'mch_b,CNY,2,150.00,1,20.00,0.78,0.58,0.30,129.42',
        '',
      ].join('\n'),
    );
  });

  it('an empty day is the header alone', () => {
    expect(new SettlementTally().csv()).toBe(`${SETTLEMENT_CSV_HEADER}\n`);
  });
});
