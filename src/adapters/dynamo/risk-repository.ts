import {
  BatchGetCommand,
  type BatchGetCommandOutput,
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
import { limitPeriods } from '#domain/risk-limits.ts';
import { auditPut } from './audit-log.ts';
import { dailyTotalAttribute } from './channel-keys.ts';
import { guardedPut, transactOrStale, ttlSeconds } from './items.ts';
import { BLACKLIST_PARTITION, type Key, REVIEW_PARTITION, riskKeys } from './keys.ts';

/**
 * The risk engine's items in the single table. A check's reads are ONE `BatchGetItem` (configuration, the context's
 * blacklist entries, the IP ranges, limit counters, activity of payer, device and IP); writes happen in the payment's
 * own transaction (`risk-items.ts`). Operator changes are transactions with their audit entry.
 */
export class DynamoRiskRepository implements RiskStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async snapshot(context: RiskContext): Promise<RiskSnapshot> {
    const { day, month } = limitPeriods(context.now);
    const payer = context.payerAccountId;
    const wanted: Record<string, Key | undefined> = {
      config: riskKeys.config(),
      merchantConfig: riskKeys.config(context.merchantId),
      ipRanges: riskKeys.ipBlacklist(),
      merchantBlacklist: riskKeys.blacklist('merchant', context.merchantId),
      payerBlacklist: payer === undefined ? undefined : riskKeys.blacklist('payer', payer, context.merchantId),
      deviceBlacklist: context.deviceId === undefined ? undefined : riskKeys.blacklist('device', context.deviceId),
      payerActivity: payer === undefined ? undefined : riskKeys.payerActivity(context.merchantId, payer),
      payerDay: payer === undefined ? undefined : riskKeys.payerCounter(context.merchantId, payer, day),
      payerMonth: payer === undefined ? undefined : riskKeys.payerCounter(context.merchantId, payer, month),
      merchantDay: riskKeys.merchantCounter(context.merchantId, day),
      deviceActivity: context.deviceId === undefined ? undefined : riskKeys.subjectActivity('device', context.deviceId),
      ipActivity: context.ip === undefined ? undefined : riskKeys.subjectActivity('ip', context.ip),
    };
    const items = await this.batchGet(Object.values(wanted).filter((key): key is Key => key !== undefined));
    const item = (name: string) => {
      const key = wanted[name];
      return key ? items.get(`${key.PK}\n${key.SK}`) : undefined;
    };
    const total = (name: string) => Number(item(name)?.[dailyTotalAttribute(context.currency)] ?? 0);
    const payerActivity = item('payerActivity');
    return {
      config: configOf(item('merchantConfig')) ?? configOf(item('config')) ?? DEFAULT_RISK_CONFIG,
      blacklist: ['merchantBlacklist', 'payerBlacklist', 'deviceBlacklist'].flatMap((name) => {
        const entry = item(name)?.entry as BlacklistEntry | undefined;
        return entry ? [entry] : [];
      }),
      ipRanges: Object.values((item('ipRanges')?.entries ?? {}) as Record<string, BlacklistEntry>),
      payerDayMinor: total('payerDay'),
      payerMonthMinor: total('payerMonth'),
      merchantDayMinor: total('merchantDay'),
      payerActivity: activityOf(payerActivity),
      deviceActivity: activityOf(item('deviceActivity')),
      ipActivity: activityOf(item('ipActivity')),
      payerStats: {
        count: Number(payerActivity?.[`n_${context.currency}`] ?? 0),
        sumMinor: Number(payerActivity?.[`s_${context.currency}`] ?? 0),
      },
    };
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
          auditPut(this.tableName, audit),
        ],
      }),
    );
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
        auditPut(this.tableName, audit),
      ]);
      return true;
    } catch (error) {
      if (error instanceof StaleStateError) return false;
      throw error;
    }
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

  private async *query(partition: string): AsyncGenerator<Record<string, unknown>> {
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': partition },
      },
    );
    for await (const page of pages) yield* page.Items ?? [];
  }

  /** One `BatchGetItem` (a throttled remainder is fetched again); items by `PK\nSK`. */
  private async batchGet(keys: Key[]): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>();
    let pending: Record<string, unknown>[] | undefined = keys.map((key) => ({ ...key }));
    for (let attempt = 0; pending?.length && attempt < 5; attempt++) {
      const output: BatchGetCommandOutput = await this.db.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }),
      );
      for (const item of output.Responses?.[this.tableName] ?? []) found.set(`${item.PK}\n${item.SK}`, item);
      pending = output.UnprocessedKeys?.[this.tableName]?.Keys;
    }
    if (pending?.length) throw new Error('risk snapshot: keys left unprocessed after retries');
    return found;
  }
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
