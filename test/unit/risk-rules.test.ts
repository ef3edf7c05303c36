import { describe, expect, it } from 'vitest';
import {
  type BlacklistEntry,
  DEFAULT_RISK_CONFIG,
  epochKey,
  epochOf,
  type RiskConfig,
  type RiskContext,
  type RiskSnapshot,
  type RuleId,
} from '#domain/risk.ts';
import { counterChanges, limitRequests, MERCHANT_DAY_MAX_SHARES } from '#domain/risk-limits.ts';
import { assessRisk, ipMatches, RULES } from '#domain/risk-rules.ts';
import { paymentFixture } from '../support/domain-fixtures.ts';

/** 2026-12-01T10:00:00Z: 600-second windows start on the hour, so window edges are easy to name. */
const NOW = new Date('2026-12-01T10:00:00.000Z');

const CONFIG: RiskConfig = {
  ...DEFAULT_RISK_CONFIG,
  version: 3,
  limits: {
    CNY: { paymentMinor: 50_000, payerDayMinor: 100_000, payerMonthMinor: 500_000, merchantDayMinor: 1_000_000 },
  },
  velocity: {
    payer: { max: 3, windowSeconds: 600 },
    device: { max: 3, windowSeconds: 600 },
    ip: { max: 3, windowSeconds: 600 },
  },
  anomaly: {
    amountMultiple: 5,
    minPayments: 3,
    payerIps: { max: 2, windowSeconds: 600 },
    payerDevices: { max: 2, windowSeconds: 600 },
  },
};

function context(overrides: Partial<RiskContext> = {}): RiskContext {
  return {
    now: NOW,
    merchantId: 'mch_1',
    payerAccountId: 'user-1',
    deviceId: 'dev-1',
    ip: '203.0.113.5',
    amountMinor: 10_000,
    currency: 'CNY',
    ...overrides,
  };
}

const none = () => ({ counts: {}, ips: {}, devices: {} });
/** The merchant day's one unsharded counter, read at `totalMinor`. */
const unsharded = (totalMinor: number) => ({ shards: 1, totals: [{ shard: 0, totalMinor }] });
/** Every counter of a sharded merchant day, read at these totals. */
const sharded = (totals: number[]) => ({
  shards: totals.length,
  totals: totals.map((totalMinor, shard) => ({ shard, totalMinor })),
});

function snapshot(overrides: Partial<RiskSnapshot> = {}): RiskSnapshot {
  return {
    config: CONFIG,
    blacklist: [],
    ipRanges: [],
    payerDayMinor: 0,
    payerMonthMinor: 0,
    merchantDay: unsharded(0),
    payerActivity: none(),
    deviceActivity: none(),
    ipActivity: none(),
    payerStats: { count: 0, sumMinor: 0 },
    ...overrides,
  };
}

const entry = (kind: BlacklistEntry['kind'], value: string, extra: Partial<BlacklistEntry> = {}): BlacklistEntry => ({
  kind,
  value,
  addedAt: '2026-01-01T00:00:00.000Z',
  addedBy: 'ops',
  ...extra,
});

/** Activity with `current` payments in the window holding NOW and `previous` in the one before (600 s windows). */
function activity(current: number, previous = 0) {
  const epoch = epochOf(NOW, 600);
  return { counts: { [epochKey(600, epoch)]: current, [epochKey(600, epoch - 1)]: previous }, ips: {}, devices: {} };
}

const cases: Array<{
  name: string;
  rule: RuleId;
  context?: Partial<RiskContext>;
  snapshot: Partial<RiskSnapshot>;
  fired: boolean;
}> = [
  // Blacklists, with expiry (exclusive) and scope.
  {
    name: 'payer listed',
    rule: 'blacklist.payer',
    snapshot: { blacklist: [entry('payer', 'user-1', { merchantId: 'mch_1' })] },
    fired: true,
  },
  {
    name: "another merchant's payer of the same id",
    rule: 'blacklist.payer',
    snapshot: { blacklist: [entry('payer', 'user-1', { merchantId: 'mch_2' })] },
    fired: false,
  },
  {
    name: 'device listed until later',
    rule: 'blacklist.device',
    snapshot: { blacklist: [entry('device', 'dev-1', { expiresAt: '2026-12-01T10:00:00.001Z' })] },
    fired: true,
  },
  {
    name: 'device entry expiring exactly now',
    rule: 'blacklist.device',
    snapshot: { blacklist: [entry('device', 'dev-1', { expiresAt: NOW.toISOString() })] },
    fired: false,
  },
  {
    name: 'device entry expired',
    rule: 'blacklist.device',
    snapshot: { blacklist: [entry('device', 'dev-1', { expiresAt: '2026-11-30T00:00:00Z' })] },
    fired: false,
  },
  {
    name: 'no device given',
    rule: 'blacklist.device',
    context: { deviceId: undefined },
    snapshot: { blacklist: [entry('device', 'dev-1')] },
    fired: false,
  },
  {
    name: 'IP in a listed /24',
    rule: 'blacklist.ip',
    snapshot: { ipRanges: [entry('ip', '203.0.113.0/24')] },
    fired: true,
  },
  {
    name: 'IP outside a listed /32',
    rule: 'blacklist.ip',
    snapshot: { ipRanges: [entry('ip', '203.0.113.6/32')] },
    fired: false,
  },
  {
    name: 'IPv6 in a listed /64',
    rule: 'blacklist.ip',
    context: { ip: '2001:db8::1' },
    snapshot: { ipRanges: [entry('ip', '2001:db8::/64')] },
    fired: true,
  },
  {
    name: 'merchant listed',
    rule: 'blacklist.merchant',
    snapshot: { blacklist: [entry('merchant', 'mch_1')] },
    fired: true,
  },
  // Amount limits: exactly at the limit passes, one cent over does not.
  {
    name: 'payment exactly at its limit',
    rule: 'limit.payment',
    context: { amountMinor: 50_000 },
    snapshot: {},
    fired: false,
  },
  { name: 'payment one cent over', rule: 'limit.payment', context: { amountMinor: 50_001 }, snapshot: {}, fired: true },
  {
    name: 'payer day reaching its limit exactly',
    rule: 'limit.payer_day',
    snapshot: { payerDayMinor: 90_000 },
    fired: false,
  },
  { name: 'payer day one cent over', rule: 'limit.payer_day', snapshot: { payerDayMinor: 90_001 }, fired: true },
  {
    name: 'payer day without a payer',
    rule: 'limit.payer_day',
    context: { payerAccountId: undefined },
    snapshot: { payerDayMinor: 100_000 },
    fired: false,
  },
  { name: 'payer month one cent over', rule: 'limit.payer_month', snapshot: { payerMonthMinor: 490_001 }, fired: true },
  {
    name: 'merchant day at its limit',
    rule: 'limit.merchant_day',
    snapshot: { merchantDay: unsharded(990_000) },
    fired: false,
  },
  {
    name: 'merchant day one cent over',
    rule: 'limit.merchant_day',
    snapshot: { merchantDay: unsharded(990_001) },
    fired: true,
  },
  {
    name: 'sharded merchant day: the counter read has room for it',
    rule: 'limit.merchant_day',
    // 4 counters of 250,000; counter 2 read at 240,000.
    snapshot: { merchantDay: { shards: 4, totals: [{ shard: 2, totalMinor: 240_000 }] } },
    fired: false,
  },
  {
    name: 'sharded merchant day: every counter read, room only together',
    rule: 'limit.merchant_day',
    snapshot: { merchantDay: sharded([245_000, 245_000, 250_000, 250_000]) },
    fired: false,
  },
  {
    name: 'sharded merchant day: every counter read, one cent short together',
    rule: 'limit.merchant_day',
    snapshot: { merchantDay: sharded([245_000, 245_001, 250_000, 250_000]) },
    fired: true,
  },
  {
    name: 'a currency without limits',
    rule: 'limit.payment',
    context: { currency: 'USD', amountMinor: 9_999_999 },
    snapshot: {},
    fired: false,
  },
  // Velocity: this payment makes the count; at most `max` pass.
  {
    name: 'payer: 2 before, this is the 3rd',
    rule: 'velocity.payer',
    snapshot: { payerActivity: activity(2) },
    fired: false,
  },
  {
    name: 'payer: 3 before, this is the 4th',
    rule: 'velocity.payer',
    snapshot: { payerActivity: activity(3) },
    fired: true,
  },
  {
    name: 'previous window fully covered at its end',
    rule: 'velocity.device',
    snapshot: { deviceActivity: activity(0, 3) },
    fired: true,
  },
  {
    name: 'IP: previous window half covered',
    rule: 'velocity.ip',
    context: { now: new Date('2026-12-01T10:05:00.000Z') },
    snapshot: { ipActivity: activity(1, 2) },
    fired: false,
  },
  {
    name: 'IP: windows older than the previous one',
    rule: 'velocity.ip',
    context: { now: new Date('2026-12-01T10:20:00.000Z') },
    snapshot: { ipActivity: activity(5, 5) },
    fired: false,
  },
  // Anomaly.
  {
    name: 'amount 5× the average',
    rule: 'anomaly.amount',
    context: { amountMinor: 5_000 },
    snapshot: { payerStats: { count: 3, sumMinor: 3_000 } },
    fired: false,
  },
  {
    name: 'amount just over 5× the average',
    rule: 'anomaly.amount',
    context: { amountMinor: 5_001 },
    snapshot: { payerStats: { count: 3, sumMinor: 3_000 } },
    fired: true,
  },
  {
    name: 'too few earlier payments for an average',
    rule: 'anomaly.amount',
    context: { amountMinor: 99_999 },
    snapshot: { payerStats: { count: 2, sumMinor: 2 } },
    fired: false,
  },
  {
    name: 'a third IP for the payer',
    rule: 'anomaly.payer_ips',
    snapshot: {
      payerActivity: {
        counts: {},
        devices: {},
        ips: { [epochKey(600, epochOf(NOW, 600) - 1)]: ['198.51.100.1', '198.51.100.2'] },
      },
    },
    fired: true,
  },
  {
    name: 'a known IP again',
    rule: 'anomaly.payer_ips',
    snapshot: {
      payerActivity: {
        counts: {},
        devices: {},
        ips: { [epochKey(600, epochOf(NOW, 600))]: ['203.0.113.5', '198.51.100.2'] },
      },
    },
    fired: false,
  },
  {
    name: 'a third device for the payer',
    rule: 'anomaly.payer_devices',
    snapshot: {
      payerActivity: { counts: {}, ips: {}, devices: { [epochKey(600, epochOf(NOW, 600))]: ['dev-2', 'dev-3'] } },
    },
    fired: true,
  },
];

describe('risk rules', () => {
  it.each(cases)('$rule: $name → fired $fired', ({ rule, context: overrides, snapshot: read, fired }) => {
    const verdict = RULES[rule](context(overrides), snapshot(read));
    expect(verdict.rule).toBe(rule);
    expect(verdict.fired).toBe(fired);
    expect(verdict.reason.length).toBeGreaterThan(0);
  });

  it('matches IPs against addresses and CIDR ranges of their own family only', () => {
    expect(ipMatches('10.0.0.0/8', '10.255.1.2')).toBe(true);
    expect(ipMatches('10.0.0.0/8', '11.0.0.1')).toBe(false);
    expect(ipMatches('10.0.0.1', '10.0.0.1')).toBe(true);
    expect(ipMatches('10.0.0.0/8', '::ffff:10.0.0.1')).toBe(false);
    expect(ipMatches('10.0.0.0/33', '10.0.0.1')).toBe(false);
    expect(ipMatches('not-an-ip', '10.0.0.1')).toBe(false);
  });
});

describe('risk score and decision', () => {
  it('allows a clean payment with score 0 and explains every rule', () => {
    const assessment = assessRisk(context(), snapshot());
    expect(assessment).toMatchObject({ score: 0, decision: 'ALLOW', rules: [], configVersion: 3 });
    expect(assessment.verdicts.map((verdict) => verdict.rule)).toEqual(Object.keys(RULES));
  });

  it('sums soft weights: one velocity rule (40) allows, two (80) review, capped at 100', () => {
    const one = assessRisk(context(), snapshot({ payerActivity: activity(3) }));
    expect(one).toMatchObject({ score: 40, decision: 'ALLOW', rules: ['velocity.payer'] });
    const two = assessRisk(context(), snapshot({ payerActivity: activity(3), deviceActivity: activity(3) }));
    expect(two).toMatchObject({ score: 80, decision: 'REVIEW' });
    const many = assessRisk(
      context({ amountMinor: 9_000 }),
      snapshot({
        payerActivity: activity(3),
        deviceActivity: activity(3),
        ipActivity: activity(3),
        payerStats: { count: 3, sumMinor: 3 },
      }),
    );
    expect(many).toMatchObject({ score: 100, decision: 'BLOCK' });
  });

  it('blocks on any hard rule whatever the weights, naming it', () => {
    const assessment = assessRisk(context(), snapshot({ blacklist: [entry('merchant', 'mch_1')] }));
    expect(assessment).toMatchObject({ score: 100, decision: 'BLOCK', rules: ['blacklist.merchant'] });
  });

  it('maps a score exactly at a threshold to that threshold decision', () => {
    const config = { ...CONFIG, thresholds: { review: 40, block: 80 } };
    expect(assessRisk(context(), snapshot({ config, payerActivity: activity(3) })).decision).toBe('REVIEW');
    const both = snapshot({ config, payerActivity: activity(3), deviceActivity: activity(3) });
    expect(assessRisk(context(), both).decision).toBe('BLOCK');
  });
});

describe('limit reservations and their release', () => {
  it('reserves each counter a limit is configured for, and nothing without limits', () => {
    const requests = limitRequests(context(), snapshot());
    expect(requests.map((r) => [r.counter, r.period, r.limitMinor])).toEqual([
      ['PAYER_DAY', '2026-12-01', 100_000],
      ['PAYER_MONTH', '2026-12', 500_000],
      ['MERCHANT_DAY', '2026-12-01', 1_000_000],
    ]);
    expect(limitRequests(context({ payerAccountId: undefined }), snapshot({ config: DEFAULT_RISK_CONFIG }))).toEqual(
      [],
    );
  });

  it('gives back on close or failure, takes again on a late success, and does nothing otherwise', () => {
    const reservations = limitRequests(context(), snapshot()).map(({ limitMinor: _l, ...r }) => r);
    const open = paymentFixture({
      status: 'PENDING',
      amountMinor: 10_000,
      risk: { score: 0, decision: 'ALLOW', rules: [], configVersion: 3, reservations },
      channelVolume: { day: '2026-12-01', amountMinor: 10_000 },
    });
    const closed = { ...open, status: 'CLOSED' as const };
    const released = counterChanges(open, closed);
    expect(released.map((delta) => delta.deltaMinor)).toEqual([-10_000, -10_000, -10_000, -10_000]);
    expect(released.at(-1)).toMatchObject({ kind: 'channel', day: '2026-12-01' });
    expect(counterChanges(closed, { ...closed, status: 'SUCCEEDED' }).map((d) => d.deltaMinor)).toEqual([
      10_000, 10_000, 10_000, 10_000,
    ]);
    expect(counterChanges(open, { ...open, status: 'SUCCEEDED' })).toEqual([]);
    expect(counterChanges(closed, { ...closed, status: 'FAILED' })).toEqual([]);
  });

  it('reserves a sharded merchant day on the counter read, or split over the counters with the most room', () => {
    const merchantDay = (request: ReturnType<typeof limitRequests>) =>
      request.find((r) => r.counter === 'MERCHANT_DAY');
    const fast = limitRequests(
      context(),
      snapshot({ merchantDay: { shards: 4, totals: [{ shard: 3, totalMinor: 0 }] } }),
    );
    expect(merchantDay(fast)).toMatchObject({ shards: 4, shares: [{ shard: 3, amountMinor: 10_000 }] });
    const split = limitRequests(context(), snapshot({ merchantDay: sharded([245_000, 244_000, 250_000, 248_000]) }));
    expect(merchantDay(split)?.shares).toEqual([
      { shard: 1, amountMinor: 6_000 },
      { shard: 0, amountMinor: 4_000 },
    ]);
    // No room, even together: the whole amount on the counter read, whose conditional write refuses it.
    const none = limitRequests(context(), snapshot({ merchantDay: sharded([250_000, 250_000, 250_000, 250_000]) }));
    expect(merchantDay(none)?.shares).toEqual([{ shard: 0, amountMinor: 10_000 }]);
    // The unsharded day keeps its one counter (no shares), so counters stored before sharding stay valid.
    expect(merchantDay(limitRequests(context(), snapshot()))).not.toHaveProperty('shares');
  });

  it('refuses a payment the day covers only over more than MERCHANT_DAY_MAX_SHARES counters', () => {
    // 100 counters of 10,000, each with 900 left: 10,000 needs 12 of them.
    const merchantDay = sharded(Array.from({ length: 100 }, () => 9_100));
    const verdict = RULES['limit.merchant_day'](context(), snapshot({ merchantDay }));
    expect(MERCHANT_DAY_MAX_SHARES).toBe(10);
    expect(verdict.fired).toBe(true);
    expect(verdict.reason).toContain('at most 10 per payment');
    expect(RULES['limit.merchant_day'](context({ amountMinor: 9_000 }), snapshot({ merchantDay })).fired).toBe(false);
  });

  it("gives a sharded merchant day's shares back to (and takes them again from) their own counters", () => {
    const reservation = {
      counter: 'MERCHANT_DAY' as const,
      merchantId: 'mch_1',
      period: '2026-12-05',
      currency: 'CNY',
      amountMinor: 10_000,
      shares: [
        { shard: 3, amountMinor: 7_000 },
        { shard: 11, amountMinor: 3_000 },
      ],
    };
    const open = paymentFixture({
      status: 'PENDING',
      amountMinor: 10_000,
      risk: { score: 0, decision: 'ALLOW', rules: [], configVersion: 3, reservations: [reservation] },
    });
    for (const status of ['CLOSED', 'FAILED'] as const) {
      const left = { ...open, status };
      expect(counterChanges(open, left)).toEqual([
        { kind: 'limit', reservation, shard: 3, deltaMinor: -7_000 },
        { kind: 'limit', reservation, shard: 11, deltaMinor: -3_000 },
      ]);
      expect(counterChanges(left, { ...left, status: 'SUCCEEDED' }).map((d) => d.deltaMinor)).toEqual([7_000, 3_000]);
    }
  });

  it("gives a sharded day's volume back to (and takes it again from) the very counters it was reserved on", () => {
    const shares = [
      { shard: 7, amountMinor: 6_000 },
      { shard: 90, amountMinor: 4_000 },
    ];
    const open = paymentFixture({
      status: 'PENDING',
      amountMinor: 10_000,
      channelVolume: { day: '2026-12-05', amountMinor: 10_000, shares },
    });
    const closed = { ...open, status: 'CLOSED' as const };
    expect(counterChanges(open, closed)).toEqual([
      { kind: 'channel', channel: open.channel, day: '2026-12-05', shard: 7, currency: 'CNY', deltaMinor: -6_000 },
      { kind: 'channel', channel: open.channel, day: '2026-12-05', shard: 90, currency: 'CNY', deltaMinor: -4_000 },
    ]);
    expect(
      counterChanges(closed, { ...closed, status: 'SUCCEEDED' }).map((d) => [
        d.kind === 'channel' && d.shard,
        d.deltaMinor,
      ]),
    ).toEqual([
      [7, 6_000],
      [90, 4_000],
    ]);
  });
});
