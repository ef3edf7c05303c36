import { BlockList, isIP } from 'node:net';
import type {
  BlacklistEntry,
  BlacklistKind,
  RiskAssessment,
  RiskContext,
  RiskSnapshot,
  RuleId,
  RuleVerdict,
  SoftRuleId,
  WindowActivity,
  WindowRule,
} from './risk.ts';
import { epochKey, epochOf, HARD_RULES } from './risk.ts';
import { MERCHANT_DAY_MAX_SHARES } from './risk-limits.ts';
import { planShares } from './sharded-limit.ts';

/** A pure rule: judges a context against what was read. */
export type Rule = (context: RiskContext, snapshot: RiskSnapshot) => RuleVerdict;

/** Whether an entry is in force at `now` (an entry expires at `expiresAt`, exclusive). */
export function isActive(entry: BlacklistEntry, now: Date): boolean {
  return entry.expiresAt === undefined || now.getTime() < Date.parse(entry.expiresAt);
}

/** Whether `ip` lies in an entry's address or CIDR range (IPv4 and IPv6; a malformed entry matches nothing). */
export function ipMatches(entry: string, ip: string): boolean {
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (isIP(ip) === 0) return false;
  const [address = '', prefix] = entry.split('/');
  const entryFamily = isIP(address);
  if (entryFamily === 0 || (entryFamily === 6) !== (family === 'ipv6')) return false;
  const list = new BlockList();
  if (prefix === undefined) list.addAddress(address, family);
  else {
    const bits = Number(prefix);
    if (!Number.isInteger(bits) || bits < 0 || bits > (family === 'ipv6' ? 128 : 32)) return false;
    list.addSubnet(address, bits, family);
  }
  return list.check(ip, family);
}

function blacklistRule(kind: BlacklistKind, rule: RuleId, subjectOf: (c: RiskContext) => string | undefined): Rule {
  return (context, snapshot) => {
    const subject = subjectOf(context);
    if (subject === undefined) return { rule, fired: false, reason: `no ${kind} given` };
    const candidates =
      kind === 'ip'
        ? [...snapshot.blacklist, ...snapshot.ipRanges].filter((e) => e.kind === 'ip' && ipMatches(e.value, subject))
        : snapshot.blacklist.filter(
            (e) => e.kind === kind && e.value === subject && (kind !== 'payer' || e.merchantId === context.merchantId),
          );
    const active = candidates.find((entry) => isActive(entry, context.now));
    if (active) return { rule, fired: true, reason: `${kind} ${active.value} is blacklisted: ${active.reason ?? ''}` };
    return {
      rule,
      fired: false,
      reason: candidates.length ? `${kind} blacklist entry expired` : `${kind} not blacklisted`,
    };
  };
}

function limitRule(
  rule: RuleId,
  limitOf: (context: RiskContext, snapshot: RiskSnapshot) => number | undefined,
  usedOf: (snapshot: RiskSnapshot) => number,
  applies: (context: RiskContext) => boolean = () => true,
): Rule {
  return (context, snapshot) => {
    const limit = limitOf(context, snapshot);
    if (limit === undefined || !applies(context)) return { rule, fired: false, reason: 'no limit applies' };
    const used = usedOf(snapshot);
    // Exactly at the limit is allowed; one minor unit over is not.
    const fired = used + context.amountMinor > limit;
    return { rule, fired, reason: `${used} + ${context.amountMinor} of ${limit} ${context.currency} (minor units)` };
  };
}

/**
 * The payments of a subject in the sliding window of `windowSeconds` ending now, estimated from two fixed windows
 * (the current one, and the previous one weighted by how much of it the sliding window still covers). Counting is
 * an atomic `ADD` per fixed window, so concurrent payments never lose a count and the item stays a few numbers.
 */
export function slidingCount(activity: WindowActivity, windowSeconds: number, now: Date): number {
  const epoch = epochOf(now, windowSeconds);
  const elapsed = (now.getTime() / 1000 - epoch * windowSeconds) / windowSeconds;
  const current = activity.counts[epochKey(windowSeconds, epoch)] ?? 0;
  const previous = activity.counts[epochKey(windowSeconds, epoch - 1)] ?? 0;
  return current + previous * (1 - elapsed);
}

/** The distinct values (IPs or devices) of the current and the previous fixed window. */
export function recentValues(values: Record<string, string[]>, windowSeconds: number, now: Date): Set<string> {
  const epoch = epochOf(now, windowSeconds);
  return new Set([
    ...(values[epochKey(windowSeconds, epoch)] ?? []),
    ...(values[epochKey(windowSeconds, epoch - 1)] ?? []),
  ]);
}

function velocityRule(
  rule: SoftRuleId,
  windowOf: (snapshot: RiskSnapshot) => WindowRule | undefined,
  activityOf: (snapshot: RiskSnapshot) => WindowActivity,
  applies: (context: RiskContext) => boolean,
): Rule {
  return (context, snapshot) => {
    const window = windowOf(snapshot);
    if (!window || !applies(context)) return { rule, fired: false, reason: 'not configured or no subject' };
    // This payment included: at most `max` payments in the window pass.
    const count = slidingCount(activityOf(snapshot), window.windowSeconds, context.now) + 1;
    return {
      rule,
      fired: count > window.max,
      reason: `~${count.toFixed(1)} payments in ${window.windowSeconds}s (max ${window.max})`,
    };
  };
}

function distinctRule(rule: SoftRuleId, field: 'ip' | 'device', windowOf: (s: RiskSnapshot) => WindowRule | undefined) {
  return ((context, snapshot) => {
    const window = windowOf(snapshot);
    const current = field === 'ip' ? context.ip : context.deviceId;
    if (!window || context.payerAccountId === undefined) return { rule, fired: false, reason: 'not configured' };
    const { ips, devices } = snapshot.payerActivity;
    const seen = recentValues(field === 'ip' ? ips : devices, window.windowSeconds, context.now);
    if (current !== undefined) seen.add(current);
    return {
      rule,
      fired: seen.size > window.max,
      reason: `payer seen from ${seen.size} ${field}s in ${window.windowSeconds}-${2 * window.windowSeconds}s (max ${window.max})`,
    };
  }) satisfies Rule;
}

const amountAnomaly: Rule = (context, snapshot) => {
  const rule = 'anomaly.amount';
  const { amountMultiple, minPayments } = snapshot.config.anomaly;
  const { count, sumMinor } = snapshot.payerStats;
  if (amountMultiple === undefined || context.payerAccountId === undefined || count < minPayments || count === 0) {
    return { rule, fired: false, reason: `${count} earlier payments (needs ${minPayments})` };
  }
  // amount > multiple × (sum / count), without dividing money.
  const fired = context.amountMinor * count > amountMultiple * sumMinor;
  return { rule, fired, reason: `${context.amountMinor} vs average ${sumMinor}/${count} × ${amountMultiple}` };
};

const hasPayer = (context: RiskContext) => context.payerAccountId !== undefined;
const limitsOf = (context: RiskContext, snapshot: RiskSnapshot) => snapshot.config.limits[context.currency];

/** Every rule, by id, in evaluation (and reporting) order. */
export const RULES: Readonly<Record<RuleId, Rule>> = {
  'blacklist.payer': blacklistRule('payer', 'blacklist.payer', (c) => c.payerAccountId),
  'blacklist.device': blacklistRule('device', 'blacklist.device', (c) => c.deviceId),
  'blacklist.ip': blacklistRule('ip', 'blacklist.ip', (c) => c.ip),
  'blacklist.merchant': blacklistRule('merchant', 'blacklist.merchant', (c) => c.merchantId),
  'limit.payment': limitRule(
    'limit.payment',
    (c, s) => limitsOf(c, s)?.paymentMinor,
    () => 0,
  ),
  'limit.payer_day': limitRule(
    'limit.payer_day',
    (c, s) => limitsOf(c, s)?.payerDayMinor,
    (s) => s.payerDayMinor,
    hasPayer,
  ),
  'limit.payer_month': limitRule(
    'limit.payer_month',
    (c, s) => limitsOf(c, s)?.payerMonthMinor,
    (s) => s.payerMonthMinor,
    hasPayer,
  ),
  'limit.merchant_day': (context, snapshot) => {
    const rule = 'limit.merchant_day';
    const limit = limitsOf(context, snapshot)?.merchantDayMinor;
    if (limit === undefined) return { rule, fired: false, reason: 'no limit applies' };
    const read = snapshot.merchantDay;
    const fired = planShares(read, limit, context.amountMinor, MERCHANT_DAY_MAX_SHARES) === undefined;
    const used = read.totals.reduce((sum, { totalMinor }) => sum + totalMinor, 0);
    const counters =
      read.shards === 1
        ? ''
        : ` on ${read.totals.length} of ${read.shards} counters (at most ${MERCHANT_DAY_MAX_SHARES} per payment)`;
    return {
      rule,
      fired,
      reason: `${used}${counters} + ${context.amountMinor} of ${limit} ${context.currency} (minor units)`,
    };
  },
  'velocity.payer': velocityRule(
    'velocity.payer',
    (s) => s.config.velocity.payer,
    (s) => s.payerActivity,
    hasPayer,
  ),
  'velocity.device': velocityRule(
    'velocity.device',
    (s) => s.config.velocity.device,
    (s) => s.deviceActivity,
    (c) => c.deviceId !== undefined,
  ),
  'velocity.ip': velocityRule(
    'velocity.ip',
    (s) => s.config.velocity.ip,
    (s) => s.ipActivity,
    (c) => c.ip !== undefined,
  ),
  'anomaly.amount': amountAnomaly,
  'anomaly.payer_ips': distinctRule('anomaly.payer_ips', 'ip', (s) => s.config.anomaly.payerIps),
  'anomaly.payer_devices': distinctRule('anomaly.payer_devices', 'device', (s) => s.config.anomaly.payerDevices),
};

const HARD: ReadonlySet<RuleId> = new Set(HARD_RULES);

/**
 * Runs every rule and scores the result: a hard rule that fires scores 100; otherwise the score is the sum of the
 * weights of the soft rules that fired, capped at 100. `thresholds` map the score to ALLOW, REVIEW or BLOCK.
 */
export function assessRisk(context: RiskContext, snapshot: RiskSnapshot): RiskAssessment {
  const verdicts = (Object.keys(RULES) as RuleId[]).map((id) => RULES[id](context, snapshot));
  const fired = verdicts.filter((verdict) => verdict.fired).map((verdict) => verdict.rule);
  const { weights, thresholds } = snapshot.config;
  const score = fired.some((rule) => HARD.has(rule))
    ? 100
    : Math.min(
        100,
        fired.reduce((sum, rule) => sum + (weights[rule as SoftRuleId] ?? 0), 0),
      );
  const decision = score >= thresholds.block ? 'BLOCK' : score >= thresholds.review ? 'REVIEW' : 'ALLOW';
  return { verdicts, score, decision, rules: fired, configVersion: snapshot.config.version };
}
