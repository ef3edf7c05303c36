import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRiskRepository } from '#adapters/dynamo/risk-repository.ts';
import { withRequestContext } from '#app/request-context.ts';
import { addBlacklistEntry, removeBlacklistEntry, setRiskConfig } from '#app/risk-admin.ts';
import type { RiskContext } from '#domain/risk.ts';
import { newId } from '#shared/ids.ts';
import { channelTable } from '../support/channel-table.ts';
import { uniqueId } from '../support/fixtures.ts';

/**
 * The risk engine's per-container cache of configuration and blacklist on DynamoDB Local, under a clock the test
 * moves: an operator's change (another container, the CLI) reaches a warm container within the TTL and not before its
 * copy expires; an unchanged blacklist costs one version read per TTL, not a reload; a payment under no configured
 * rule reads nothing else. A table of its own: the blacklist is one partition every test of the run would share.
 */
const TTL_MS = 5000;
const operator = { type: 'operator' as const, id: 'alice@ops' };
let own: Awaited<ReturnType<typeof channelTable>>;
let admin: { riskStore: DynamoRiskRepository; clock: () => Date; newId: typeof newId };

beforeAll(async () => {
  own = await channelTable();
  admin = { riskStore: new DynamoRiskRepository(own.db, own.tableName), clock: () => new Date(), newId };
}, 60_000);
afterAll(() => own?.drop());

/** A warm container: its own repository with the cache on, a clock the test moves, and its DynamoDB calls counted. */
function warmContainer() {
  const clock = { ms: 0 };
  const calls: string[] = [];
  const repository = new DynamoRiskRepository(own.db, own.tableName, { cacheTtlMs: TTL_MS, now: () => clock.ms });
  own.db.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: uniqueId('count') },
  );
  return { repository, clock, calls };
}

const context = (fields: Partial<RiskContext> = {}): RiskContext => ({
  now: new Date(),
  merchantId: 'mch_cache',
  amountMinor: 100,
  currency: 'CNY',
  ...fields,
});

describe('risk configuration and blacklist cache (per container, bounded delay)', () => {
  it('sees a blacklist entry added elsewhere only once its copy is older than the TTL, and its removal likewise', async () => {
    const { repository, clock } = warmContainer();
    const device = uniqueId('dev');
    const ctx = context({ deviceId: device });
    expect((await repository.snapshot(ctx)).blacklist).toEqual([]);
    await withRequestContext({ actor: operator }, () => addBlacklistEntry(admin, { kind: 'device', value: device }));
    clock.ms += TTL_MS - 1;
    expect((await repository.snapshot(ctx)).blacklist).toEqual([]); // its copy is still fresh: the bounded delay
    clock.ms += 1;
    expect((await repository.snapshot(ctx)).blacklist).toMatchObject([{ kind: 'device', value: device }]);
    await withRequestContext({ actor: operator }, () => removeBlacklistEntry(admin, { kind: 'device', value: device }));
    expect((await repository.snapshot(ctx)).blacklist).toHaveLength(1);
    clock.ms += TTL_MS;
    expect((await repository.snapshot(ctx)).blacklist).toEqual([]);
  }, 60_000);

  it('answers from memory within the TTL, then reads the version once and reloads only when it moved', async () => {
    const { repository, clock, calls } = warmContainer();
    const ip = '198.51.100.7';
    await repository.snapshot(context({ ip }));
    calls.length = 0;
    for (let i = 0; i < 5; i++) await repository.snapshot(context({ ip, payerAccountId: `p${i}` }));
    expect(calls).toEqual([]); // nothing configured reads counters or activity; the rest is cached
    clock.ms += TTL_MS;
    await repository.snapshot(context({ ip }));
    // Both configurations (gateway, merchant) and the blacklist's version: no reload, it did not move.
    expect(calls.sort()).toEqual(['GetItem', 'GetItem', 'GetItem']);
    await withRequestContext({ actor: operator }, () =>
      addBlacklistEntry(admin, { kind: 'ip', value: '198.51.100.0/24' }),
    );
    calls.length = 0;
    clock.ms += TTL_MS;
    const snapshot = await repository.snapshot(context({ ip }));
    expect(calls.sort()).toEqual(['GetItem', 'GetItem', 'GetItem', 'Query']);
    expect(snapshot.ipRanges.map((entry) => entry.value)).toContain('198.51.100.0/24');
  }, 60_000);

  it("applies a configuration change within the TTL, and its own container's change at once", async () => {
    const { repository, clock } = warmContainer();
    const merchantId = uniqueId('mch');
    expect((await repository.snapshot(context({ merchantId }))).config.thresholds).toEqual({ review: 50, block: 90 });
    const thresholds = { review: 40, block: 80 };
    await withRequestContext({ actor: operator }, () => setRiskConfig(admin, { thresholds }, merchantId));
    expect((await repository.snapshot(context({ merchantId }))).config.thresholds).toEqual({ review: 50, block: 90 });
    clock.ms += TTL_MS;
    const changed = (await repository.snapshot(context({ merchantId }))).config;
    expect(changed).toMatchObject({ version: 1, thresholds });
    // A change this container writes drops its copy: the next check sees it.
    const local = { ...admin, riskStore: repository };
    await withRequestContext({ actor: operator }, () =>
      setRiskConfig(local, { thresholds: { review: 30, block: 70 } }, merchantId),
    );
    expect((await repository.snapshot(context({ merchantId }))).config).toMatchObject({ version: 2 });
  }, 60_000);

  it('reads the counters and activity only of the rules the configuration names', async () => {
    const { repository, calls } = warmContainer();
    const merchantId = uniqueId('mch');
    await withRequestContext({ actor: operator }, () =>
      setRiskConfig(admin, { limits: { CNY: { merchant_day: '100.00' } } }, merchantId),
    );
    await repository.snapshot(context({ merchantId }));
    calls.length = 0;
    await repository.snapshot(context({ merchantId, payerAccountId: 'p1', ip: '203.0.113.9' }));
    expect(calls).toEqual(['BatchGetItem']);
  }, 60_000);
});
