import {
  type DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type RiskStore, StaleStateError } from '#app/ports.ts';
import type { AuditRecord } from '#domain/audit.ts';
import {
  type BlacklistEntry,
  type BlacklistKind,
  DEFAULT_RISK_CONFIG,
  type RiskConfig,
  type RiskContext,
  type RiskSnapshot,
  type WindowActivity,
} from '#domain/risk.ts';
import { limitPeriods, merchantDayShards, snapshotReads } from '#domain/risk-limits.ts';
import { type CountersRead, needsEveryCounter, pickShard } from '#domain/sharded-limit.ts';
import { TtlCache } from '#shared/ttl-cache.ts';
import { auditPut } from './audit-log.ts';
import { dailyTotalAttribute } from './channel-keys.ts';
import { batchGetItems, consistentTotals, guardedPut, itemKeyOf, transactOrStale, ttlSeconds } from './items.ts';
import { BLACKLIST_PARTITION, type Key, REVIEW_PARTITION, riskKeys } from './keys.ts';

/**
 * The risk engine's items in the single table. A check reads the configuration and the blacklist through this
 * container's caches ({@link TtlCache}, `RISK_CACHE_TTL_MS`), then — in ONE `BatchGetItem`, and only when a configured
 * rule needs them — the limit counters and the activity of payer, device and IP; writes happen in the payment's own
 * transaction (`risk-items.ts`). Operator changes are transactions with their audit entry; a blacklist change also
 * adds one to the blacklist's version, which containers check once per TTL before reloading the whole list.
 * A sharded merchant day is read on one counter picked at random (`random`), and on every counter only when that one
 * lacks room for the payment (strongly consistent: the split is planned from them).
 */
export class DynamoRiskRepository implements RiskStore {
  private readonly configs: TtlCache<RiskConfig | undefined>;
  private readonly blacklists: TtlCache<CachedBlacklist>;
  private readonly random: () => number;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: { cacheTtlMs?: number; now?: () => number; random?: () => number } = {},
  ) {
    this.random = options.random ?? Math.random;
    this.configs = new TtlCache(options.cacheTtlMs ?? 0, options.now);
    this.blacklists = new TtlCache(options.cacheTtlMs ?? 0, options.now);
  }

  async snapshot(context: RiskContext): Promise<RiskSnapshot> {
    const [gatewayConfig, merchantConfig, blacklist] = await Promise.all([
      this.cachedConfig(undefined),
      this.cachedConfig(context.merchantId),
      this.cachedBlacklist(),
    ]);
    const config = merchantConfig ?? gatewayConfig ?? DEFAULT_RISK_CONFIG;
    const { day, month } = limitPeriods(context.now);
    const payer = context.payerAccountId;
    const reads = snapshotReads(context, config);
    const shards = reads.merchantDay ? merchantDayShards(config, day) : 1;
    const shard = shards > 1 ? pickShard(shards, this.random) : undefined;
    const wanted: Record<string, Key | undefined> = {
      payerActivity:
        reads.payerActivity && payer !== undefined ? riskKeys.payerActivity(context.merchantId, payer) : undefined,
      payerDay:
        reads.payerDay && payer !== undefined ? riskKeys.payerCounter(context.merchantId, payer, day) : undefined,
      payerMonth:
        reads.payerMonth && payer !== undefined ? riskKeys.payerCounter(context.merchantId, payer, month) : undefined,
      merchantDay: reads.merchantDay ? riskKeys.merchantCounter(context.merchantId, day, shard) : undefined,
      deviceActivity:
        reads.deviceActivity && context.deviceId !== undefined
          ? riskKeys.subjectActivity('device', context.deviceId)
          : undefined,
      ipActivity: reads.ipActivity && context.ip !== undefined ? riskKeys.subjectActivity('ip', context.ip) : undefined,
    };
    const items = await this.batchGet(Object.values(wanted).filter((key): key is Key => key !== undefined));
    const item = (name: string) => {
      const key = wanted[name];
      return key ? items.get(itemKeyOf(key)) : undefined;
    };
    const total = (name: string) => Number(item(name)?.[dailyTotalAttribute(context.currency)] ?? 0);
    const payerActivity = item('payerActivity');
    const listed = (key: Key | undefined) => (key ? blacklist.entries.get(key.SK) : undefined);
    return {
      config,
      blacklist: [
        listed(riskKeys.blacklist('merchant', context.merchantId)),
        listed(payer === undefined ? undefined : riskKeys.blacklist('payer', payer, context.merchantId)),
        listed(context.deviceId === undefined ? undefined : riskKeys.blacklist('device', context.deviceId)),
      ].filter((entry): entry is BlacklistEntry => entry !== undefined),
      ipRanges: blacklist.ipRanges,
      payerDayMinor: total('payerDay'),
      payerMonthMinor: total('payerMonth'),
      merchantDay: await this.merchantDay(context, config, day, {
        shards,
        totals: [{ shard: shard ?? 0, totalMinor: total('merchantDay') }],
      }),
      payerActivity: activityOf(payerActivity),
      deviceActivity: activityOf(item('deviceActivity')),
      ipActivity: activityOf(item('ipActivity')),
      payerStats: {
        count: Number(payerActivity?.[`n_${context.currency}`] ?? 0),
        sumMinor: Number(payerActivity?.[`s_${context.currency}`] ?? 0),
      },
    };
  }

  /** The merchant-day counters read: `one` (the counter picked), or every counter when it lacks room for the amount. */
  private async merchantDay(context: RiskContext, config: RiskConfig, day: string, one: CountersRead) {
    const limit = config.limits[context.currency]?.merchantDayMinor;
    if (limit === undefined || !needsEveryCounter(one, limit, context.amountMinor)) return one;
    const keys = Array.from({ length: one.shards }, (_, k) => riskKeys.merchantCounter(context.merchantId, day, k));
    const totals = await consistentTotals(this.db, this.tableName, keys, dailyTotalAttribute(context.currency));
    return { shards: one.shards, totals: totals.map((totalMinor, shard) => ({ shard, totalMinor })) };
  }

  /** The gateway's (`undefined`) or a merchant's configuration as stored, through this container's cache. */
  private cachedConfig(merchantId: string | undefined): Promise<RiskConfig | undefined> {
    return this.configs.get(merchantId ?? '', async () => {
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: riskKeys.config(merchantId) }),
      );
      return configOf(Item);
    });
  }

  /**
   * Every blacklist entry, through this container's cache: once its copy is older than the TTL, it reads the
   * blacklist's version (one strongly consistent `GetItem`) and reloads the partition only when the version moved.
   * The version is read BEFORE the entries, so a change landing during the reload moves it past the copy's: the next
   * check reloads again, and no entry is missed for longer than one TTL.
   */
  private cachedBlacklist(): Promise<CachedBlacklist> {
    return this.blacklists.get('', async (expired) => {
      const version = await this.blacklistVersion();
      if (expired && expired.version === version) return expired;
      const entries = new Map<string, BlacklistEntry>();
      let ipRanges: BlacklistEntry[] = [];
      for await (const item of this.query(BLACKLIST_PARTITION, true)) {
        const sk = String(item.SK);
        if (sk === riskKeys.ipBlacklist().SK) {
          ipRanges = Object.values((item.entries ?? {}) as Record<string, BlacklistEntry>);
        } else if (item.entry) entries.set(sk, item.entry as BlacklistEntry);
      }
      return { version, entries, ipRanges };
    });
  }

  private async blacklistVersion(): Promise<number> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: riskKeys.blacklistVersion(), ConsistentRead: true }),
    );
    return Number(Item?.version ?? 0);
  }

  async config(merchantId?: string): Promise<RiskConfig | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: riskKeys.config(merchantId), ConsistentRead: true }),
    );
    return configOf(Item) ?? (merchantId === undefined ? DEFAULT_RISK_CONFIG : undefined);
  }

  async putConfig(config: RiskConfig, audit: AuditRecord): Promise<void> {
    const expected = config.version - 1;
    await transactOrStale(this.db, [
      guardedPut(
        this.tableName,
        { ...riskKeys.config(config.merchantId), entity: 'RISK_CONFIG', version: config.version, config },
        { attribute: 'version', expected: expected === 0 ? undefined : expected },
      ),
      {
        Put: {
          TableName: this.tableName,
          Item: {
            ...riskKeys.configVersion(config.version, config.merchantId),
            entity: 'RISK_CONFIG_VERSION',
            config,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      auditPut(this.tableName, audit),
    ]);
    this.configs.drop(config.merchantId ?? '');
  }

  async putBlacklist(entry: BlacklistEntry, audit: AuditRecord): Promise<void> {
    const ttl = entry.expiresAt ? { ttl: ttlSeconds(new Date(entry.expiresAt)) } : {};
    if (entry.kind === 'ip') {
      // The ranges live in one map; make sure it exists (harmless if it does), then set this entry in it.
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: riskKeys.ipBlacklist(),
          UpdateExpression: 'SET #entries = if_not_exists(#entries, :empty), #entity = :entity',
          ExpressionAttributeNames: { '#entries': 'entries', '#entity': 'entity' },
          ExpressionAttributeValues: { ':empty': {}, ':entity': 'RISK_BLACKLIST' },
        }),
      );
    }
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          entry.kind === 'ip'
            ? {
                Update: {
                  TableName: this.tableName,
                  Key: riskKeys.ipBlacklist(),
                  UpdateExpression: 'SET #entries.#value = :entry',
                  ExpressionAttributeNames: { '#entries': 'entries', '#value': entry.value },
                  ExpressionAttributeValues: { ':entry': entry },
                },
              }
            : {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    ...riskKeys.blacklist(entry.kind, entry.value, entry.merchantId),
                    entity: 'RISK_BLACKLIST',
                    entry,
                    ...ttl,
                  },
                },
              },
          this.blacklistVersionBump(),
          auditPut(this.tableName, audit),
        ],
      }),
    );
    this.blacklists.drop();
  }

  async removeBlacklist(
    kind: BlacklistKind,
    value: string,
    merchantId: string | undefined,
    audit: AuditRecord,
  ): Promise<boolean> {
    try {
      await transactOrStale(this.db, [
        kind === 'ip'
          ? {
              Update: {
                TableName: this.tableName,
                Key: riskKeys.ipBlacklist(),
                UpdateExpression: 'REMOVE #entries.#value',
                ConditionExpression: 'attribute_exists(#entries.#value)',
                ExpressionAttributeNames: { '#entries': 'entries', '#value': value },
              },
            }
          : {
              Delete: {
                TableName: this.tableName,
                Key: riskKeys.blacklist(kind, value, merchantId),
                ConditionExpression: 'attribute_exists(PK)',
              },
            },
        this.blacklistVersionBump(),
        auditPut(this.tableName, audit),
      ]);
      return true;
    } catch (error) {
      if (error instanceof StaleStateError) return false;
      throw error;
    } finally {
      this.blacklists.drop();
    }
  }

  /** Adds one to the blacklist's version: part of every change's transaction. */
  private blacklistVersionBump() {
    return {
      Update: {
        TableName: this.tableName,
        Key: riskKeys.blacklistVersion(),
        UpdateExpression: 'SET #entity = :entity ADD #version :one',
        ExpressionAttributeNames: { '#entity': 'entity', '#version': 'version' },
        ExpressionAttributeValues: { ':entity': 'RISK_BLACKLIST_VERSION', ':one': 1 },
      },
    };
  }

  async listBlacklist(): Promise<BlacklistEntry[]> {
    const entries: BlacklistEntry[] = [];
    for await (const item of this.query(BLACKLIST_PARTITION)) {
      if (item.SK === riskKeys.ipBlacklist().SK) {
        entries.push(...Object.values((item.entries ?? {}) as Record<string, BlacklistEntry>));
      } else if (item.entry) entries.push(item.entry as BlacklistEntry);
    }
    return entries;
  }

  async listReviews(now: Date): Promise<string[]> {
    const ids: string[] = [];
    for await (const item of this.query(REVIEW_PARTITION)) {
      if (Number(item.ttl ?? 0) > ttlSeconds(now)) ids.push(String(item.paymentId));
    }
    return ids;
  }

  private async *query(partition: string, consistent = false): AsyncGenerator<Record<string, unknown>> {
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': partition },
        ConsistentRead: consistent,
      },
    );
    for await (const page of pages) yield* page.Items ?? [];
  }

  /** One eventually consistent `BatchGetItem` (a throttled remainder is fetched again), none for no keys. */
  private async batchGet(keys: Key[]): Promise<Map<string, Record<string, unknown>>> {
    if (keys.length === 0) return new Map();
    return batchGetItems(this.db, this.tableName, keys, { consistent: false });
  }
}

/** A container's copy of the blacklist: entries by sort key, the IP addresses and ranges, and the version read. */
interface CachedBlacklist {
  version: number;
  entries: Map<string, BlacklistEntry>;
  ipRanges: BlacklistEntry[];
}

function configOf(item: Record<string, unknown> | undefined): RiskConfig | undefined {
  return item?.config as RiskConfig | undefined;
}

function activityOf(item: Record<string, unknown> | undefined): WindowActivity {
  const activity: WindowActivity = { counts: {}, ips: {}, devices: {} };
  for (const [name, value] of Object.entries(item ?? {})) {
    if (name.startsWith('v_')) activity.counts[name.slice(2)] = Number(value);
    else if (name.startsWith('ip_')) activity.ips[name.slice(3)] = [...(value as Set<string>)];
    else if (name.startsWith('dv_')) activity.devices[name.slice(3)] = [...(value as Set<string>)];
  }
  return activity;
}
