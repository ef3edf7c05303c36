// Over 250 lines: one case per reconciliation class and reason, each a few lines of fixture; splitting them
// would scatter the table of cases.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBill } from '#adapters/bills/parse-bill.ts';
import { businessDayOf, businessDayWindow, SHANGHAI, settlementTimeZones } from '#domain/business-day.ts';
import type { Payment, PaymentStatus } from '#domain/payment.ts';
import {
  type BillEntry,
  classify,
  DIFFERENCES_CSV_HEADER,
  type Difference,
  differencesCsvLine,
  ReconciliationTally,
} from '#domain/reconciliation.ts';
import type { Refund, RefundStatus } from '#domain/refund.ts';
import { alipayBill, type BillRecord, chunked, recordArbitrary, sandboxBill, totalsOf } from '../support/bills.ts';

const AT = '2026-01-02T02:00:00.000Z';

function payment(id: string, status: PaymentStatus, amountMinor = 10_000, currency = 'CNY'): Payment {
  return {
    id,
    merchantId: 'mch_1',
    orderNo: `ORD-${id}`,
    status,
    amountMinor,
    currency,
    subject: 'top-up',
    channel: 'ALIPAY',
    method: 'QR',
    metadata: {},
    refundedMinor: 0,
    late: false,
    expiresAt: AT,
    createdAt: AT,
    updatedAt: AT,
    paidAt: status === 'PENDING' ? undefined : AT,
    requestHash: 'hash',
    version: 1,
  };
}

function refund(id: string, status: RefundStatus, amountMinor = 2_000): Refund {
  return {
    id,
    merchantId: 'mch_1',
    paymentId: 'pay_1',
    refundNo: `R-${id}`,
    amountMinor,
    currency: 'CNY',
    status,
    channel: 'ALIPAY',
    createdAt: AT,
    updatedAt: AT,
    completedAt: status === 'PROCESSING' ? undefined : AT,
    requestHash: 'hash',
    version: 1,
  };
}

function entry(kind: BillEntry['kind'], status: string, amountMinor = kind === 'PAYMENT' ? 10_000 : 2_000): BillEntry {
  const gatewayId = kind === 'PAYMENT' ? 'pay_1' : 'ref_1';
  return { kind, gatewayId, channelTradeNo: 'T1', amountMinor, feeMinor: 60, currency: 'CNY', status, occurredAt: AT };
}

describe('classify', () => {
  it.each([
    ['SUCCESS', undefined, 'CHANNEL_ONLY', false, 'NOT_IN_GATEWAY'],
    ['SUCCESS', payment('pay_1', 'SUCCEEDED'), 'MATCHED', false, undefined],
    ['SUCCESS', payment('pay_1', 'PARTIALLY_REFUNDED'), 'MATCHED', false, undefined],
    ['REFUND', payment('pay_1', 'REFUNDED'), 'MATCHED', false, undefined],
    ['SUCCESS', payment('pay_1', 'SUCCEEDED', 9_999), 'AMOUNT_MISMATCH', false, 'AMOUNT_OR_CURRENCY_DIFFERS'],
    ['SUCCESS', payment('pay_1', 'SUCCEEDED', 10_000, 'USD'), 'AMOUNT_MISMATCH', false, 'AMOUNT_OR_CURRENCY_DIFFERS'],
    ['SUCCESS', payment('pay_1', 'PENDING'), 'CHANNEL_ONLY', true, 'NOT_SETTLED_IN_GATEWAY'],
    ['SUCCESS', payment('pay_1', 'CLOSED'), 'CHANNEL_ONLY', true, 'NOT_SETTLED_IN_GATEWAY'],
    ['SUCCESS', payment('pay_1', 'FAILED'), 'CHANNEL_ONLY', true, 'NOT_SETTLED_IN_GATEWAY'],
    ['SUCCESS', payment('pay_1', 'PENDING', 1), 'AMOUNT_MISMATCH', false, 'AMOUNT_OR_CURRENCY_DIFFERS'],
    ['CLOSED', payment('pay_1', 'SUCCEEDED'), 'STATUS_MISMATCH', false, 'NOT_SETTLED_AT_CHANNEL'],
    ['REVOKED', payment('pay_1', 'CLOSED'), 'MATCHED', false, undefined],
    ['SUCCESS', refund('pay_1', 'SUCCEEDED'), 'CHANNEL_ONLY', false, 'NOT_IN_GATEWAY'],
  ] as const)('a %s payment line against %o is %s', (status, local, kind, repairable, reason) => {
    expect(classify(entry('PAYMENT', status), local)).toEqual({ class: kind, repairable, reason });
  });

  it.each([
    ['SUCCESS', undefined, 'CHANNEL_ONLY', false, 'NOT_IN_GATEWAY'],
    ['SUCCESS', refund('ref_1', 'SUCCEEDED'), 'MATCHED', false, undefined],
    ['SUCCESS', refund('ref_1', 'SUCCEEDED', 1_999), 'AMOUNT_MISMATCH', false, 'AMOUNT_OR_CURRENCY_DIFFERS'],
    ['SUCCESS', refund('ref_1', 'PROCESSING'), 'CHANNEL_ONLY', true, 'NOT_SETTLED_IN_GATEWAY'],
    ['SUCCESS', refund('ref_1', 'FAILED'), 'STATUS_MISMATCH', false, 'FINAL_STATES_DISAGREE'],
    ['PROCESSING', refund('ref_1', 'SUCCEEDED'), 'MATCHED', false, undefined],
    ['PROCESSING', refund('ref_1', 'FAILED'), 'MATCHED', false, undefined],
    ['PROCESSING', refund('ref_1', 'PROCESSING', 5), 'AMOUNT_MISMATCH', false, 'AMOUNT_OR_CURRENCY_DIFFERS'],
    ['CLOSED', refund('ref_1', 'SUCCEEDED'), 'STATUS_MISMATCH', false, 'NOT_SETTLED_AT_CHANNEL'],
    ['ABNORMAL', refund('ref_1', 'PROCESSING'), 'STATUS_MISMATCH', false, 'NOT_SETTLED_AT_CHANNEL'],
    ['CLOSED', refund('ref_1', 'FAILED'), 'MATCHED', false, undefined],
    ['SUCCESS', payment('ref_1', 'SUCCEEDED', 2_000), 'CHANNEL_ONLY', false, 'NOT_IN_GATEWAY'],
  ] as const)('a %s refund line against %o is %s', (status, local, kind, repairable, reason) => {
    expect(classify(entry('REFUND', status), local)).toEqual({ class: kind, repairable, reason });
  });
});

describe('ReconciliationTally over a parsed Alipay bill', () => {
  const record = (kind: BillRecord['kind'], gatewayId: string, amountMinor: number, feeMinor: number): BillRecord => ({
    kind,
    gatewayId,
    paymentId: kind === 'PAYMENT' ? gatewayId : 'pay_1',
    channelTradeNo: `2026${gatewayId}`,
    amountMinor,
    feeMinor,
    status: 'SUCCESS',
    occurredAt: AT,
    subject: '充值',
  });
  const bill = [
    record('PAYMENT', 'pay_1', 10_000, 60),
    record('PAYMENT', 'pay_2', 5_000, 30),
    record('PAYMENT', 'pay_3', 1_000, 6),
    record('PAYMENT', 'pay_4', 4_000, 24),
    record('REFUND', 'ref_1', 2_000, -12),
    record('REFUND', 'ref_2', 500, -3),
    record('PAYMENT', 'pay_1', 10_000, 60),
  ];
  const local = new Map<string, Payment | Refund>([
    ['pay_1', payment('pay_1', 'PARTIALLY_REFUNDED')],
    ['pay_2', payment('pay_2', 'SUCCEEDED', 4_900)],
    ['pay_4', payment('pay_4', 'PENDING', 4_000)],
    ['ref_1', refund('ref_1', 'SUCCEEDED')],
    ['ref_2', refund('ref_2', 'FAILED', 500)],
  ]);
  const dayRecords = [payment('pay_1', 'SUCCEEDED'), payment('pay_5', 'SUCCEEDED', 3_000), payment('pay_6', 'PENDING')];

  async function reconcile() {
    const tally = new ReconciliationTally();
    const differences: Difference[] = [];
    for await (const event of parseBill('ALIPAY', chunked(alipayBill(bill, '2026-01-02'), [100, 700]))) {
      if (event.type !== 'line') continue;
      const difference = tally.addLine(event, local.get(event.gatewayId));
      if (difference) differences.push(difference);
    }
    for (const localRecord of dayRecords) {
      const difference = tally.addLocal(localRecord);
      if (difference) differences.push(difference);
    }
    return { tally, differences };
  }

  it('counts every class line by line and finds the local-only record in the final pass', async () => {
    const { tally, differences } = await reconcile();
    expect(differences.map(({ class: kind, gatewayId, repairable }) => [kind, gatewayId, repairable])).toEqual([
      ['AMOUNT_MISMATCH', 'pay_2', false],
      ['CHANNEL_ONLY', 'pay_3', false],
      ['CHANNEL_ONLY', 'pay_4', true],
      ['STATUS_MISMATCH', 'ref_2', false],
      ['CHANNEL_ONLY', 'pay_1', false],
      ['LOCAL_ONLY', 'pay_5', false],
    ]);
    expect(differences[4]?.reason).toBe('REPEATED_IN_BILL');
    const repairable = differences[2];
    if (!repairable) throw new Error('expected the repairable difference');
    const repair = {
      date: '2026-01-02',
      runId: 'run_20260103T023000000Z_0a1b2c3d',
      at: AT,
      before: { status: 'PENDING', at: AT },
      after: { status: 'SUCCEEDED' },
    };
    tally.markRepaired(repairable, repair);
    expect(repairable).toMatchObject({ outcome: 'repaired', repair });
    // channel: 100 + 50 + 10 + 40 + 100 (repeated) − 20 − 5; local: 100 + 49 − 20 + 30 (local only); fees: 1.65
    expect(tally.summary('CNY')).toEqual({
      matched: 2,
      amount_mismatch: 1,
      status_mismatch: 1,
      local_only: 1,
      channel_only: 3,
      repaired: 1,
      local_total: '159.00',
      channel_total: '275.00',
      fee_total: '1.65',
    });
    expect(tally.totalsByCurrency()).toEqual({ CNY: { localMinor: 15_900, channelMinor: 27_500, feeMinor: 165 } });
    expect(tally.saw('pay_3')).toBe(true);
    expect(tally.saw('pay_6')).toBe(false);
  });

  it('writes one CSV line per difference with both sides', async () => {
    const { differences } = await reconcile();
    const csv = differences.map(differencesCsvLine);
    expect(csv[0]).toBe(
      'AMOUNT_MISMATCH,AMOUNT_OR_CURRENCY_DIFFERS,false,PAYMENT,pay_2,7,2026pay_2,SUCCESS,50.00,0.30,CNY,' +
        `${AT},SUCCEEDED,49.00,CNY,${AT},needs_review,,,`,
    );
    expect(csv[5]).toBe(`LOCAL_ONLY,NOT_IN_BILL,false,PAYMENT,pay_5,,,,,,,,SUCCEEDED,30.00,CNY,${AT},needs_review,,,`);
    for (const line of csv) expect(line.split(',')).toHaveLength(DIFFERENCES_CSV_HEADER.split(',').length);
  });
});

describe('a repaired record', () => {
  const repair = {
    date: '2026-01-02',
    runId: 'run_20260103T023000000Z_0a1b2c3d',
    at: '2026-01-03T02:30:01.000Z',
    before: { status: 'PENDING', at: AT },
    after: { status: 'SUCCEEDED' },
  };

  it('is classified as it stood before the repair on every re-run of that day, showing the repair', () => {
    const line = entry('PAYMENT', 'SUCCESS');
    const repaired = { ...payment(line.gatewayId, 'SUCCEEDED'), paidAt: AT, repair };
    const runs = [1, 2].map(() => {
      const tally = new ReconciliationTally('2026-01-02');
      const difference = tally.addLine(line, repaired);
      return { csv: difference && differencesCsvLine(difference), summary: tally.summary('CNY') };
    });
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[0]?.csv).toMatch(
      /^CHANNEL_ONLY,NOT_SETTLED_IN_GATEWAY,true,.*,PENDING,100\.00,CNY,.*,repaired,2026-01-03T02:30:01\.000Z,run_20260103T023000000Z_0a1b2c3d,SUCCEEDED$/,
    );
    expect(runs[0]?.summary).toMatchObject({ channel_only: 1, repaired: 1, matched: 0, local_total: '0.00' });
  });

  it('is classified as it is by a run of another day', () => {
    const line = entry('PAYMENT', 'SUCCESS');
    const repaired = { ...payment(line.gatewayId, 'SUCCEEDED'), paidAt: AT, repair };
    const tally = new ReconciliationTally('2026-01-03');
    expect(tally.addLine(line, repaired)).toBeUndefined();
    expect(tally.summary('CNY')).toMatchObject({ matched: 1, repaired: 0 });
  });
});

describe('differencesCsvLine', () => {
  it('quotes commas, quotes and line breaks, and defuses spreadsheet formulas', () => {
    const bill = { ...entry('PAYMENT', 'SUCCESS'), channelTradeNo: '=HYPERLINK("x")', status: 'A,"B"\nC' };
    const line = differencesCsvLine({
      ...classify(bill, undefined),
      class: 'CHANNEL_ONLY',
      reason: 'NOT_IN_GATEWAY',
      outcome: 'needs_review',
      kind: 'PAYMENT',
      gatewayId: 'pay_1',
      bill,
    });
    expect(line).toBe(
      `CHANNEL_ONLY,NOT_IN_GATEWAY,false,PAYMENT,pay_1,,"'=HYPERLINK(""x"")","A,""B""\nC",100.00,0.60,CNY,${AT},,,,,needs_review,,,`,
    );
  });
});

describe('business days', () => {
  it('covers an Asia/Shanghai day: 16:00 UTC the day before to 16:00 UTC', () => {
    expect(businessDayWindow(SHANGHAI, '2026-01-02')).toEqual({
      from: '2026-01-01T16:00:00.000Z',
      to: '2026-01-02T16:00:00.000Z',
    });
    expect(businessDayOf(SHANGHAI, '2026-01-01T16:00:00.000Z')).toBe('2026-01-02');
    expect(businessDayOf(SHANGHAI, '2026-01-01T15:59:59.999Z')).toBe('2026-01-01');
  });

  it('puts 03:30 Beijing time on 12-02 (19:30 UTC on 12-01) on the 12-02 business day of every channel', () => {
    const zones = settlementTimeZones();
    for (const channel of ['SANDBOX', 'ALIPAY', 'WECHAT_PAY'] as const) {
      expect(businessDayOf(zones[channel], '2026-12-01T19:30:00.000Z')).toBe('2026-12-02');
    }
  });

  it('follows a configured zone, including a 23-hour day at a DST change', () => {
    expect(settlementTimeZones('UTC').SANDBOX).toBe('UTC');
    expect(businessDayWindow('UTC', '2026-01-02')).toEqual({
      from: '2026-01-02T00:00:00.000Z',
      to: '2026-01-03T00:00:00.000Z',
    });
    expect(businessDayWindow('America/New_York', '2026-03-08')).toEqual({
      from: '2026-03-08T05:00:00.000Z',
      to: '2026-03-09T04:00:00.000Z',
    });
    expect(() => settlementTimeZones('Mars/Olympus')).toThrow(/time zone/);
  });
});

describe('ReconciliationTally, generated', () => {
  it('matches a bill against records that agree with it, and both totals equal the bill net', async () => {
    const records = fc.uniqueArray(recordArbitrary('SANDBOX', '2026-01-02'), {
      selector: (r) => r.gatewayId,
      maxLength: 30,
    });
    await fc.assert(
      fc.asyncProperty(records, async (generated) => {
        const tally = new ReconciliationTally();
        for await (const event of parseBill('SANDBOX', chunked(sandboxBill(generated)))) {
          if (event.type !== 'line') continue;
          const local =
            event.kind === 'PAYMENT'
              ? payment(event.gatewayId, 'SUCCEEDED', event.amountMinor)
              : refund(event.gatewayId, 'SUCCEEDED', event.amountMinor);
          expect(tally.addLine(event, local)).toBeUndefined();
        }
        const { paymentMinor, refundMinor, feeMinor, lines } = totalsOf(generated);
        const net = paymentMinor - refundMinor;
        expect(tally.summary('CNY')).toMatchObject({ matched: lines, channel_only: 0, local_only: 0 });
        expect(tally.totalsByCurrency().CNY ?? { localMinor: 0, channelMinor: 0, feeMinor: 0 }).toEqual({
          localMinor: net,
          channelMinor: net,
          feeMinor,
        });
      }),
      { numRuns: 50 },
    );
  });
});
