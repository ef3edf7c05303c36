// Section 11 (BENCH_RESULT `heat`): the key-heat model. Sample flows run on the local stack with every DynamoDB call of
// the gateway's client recorded as partition keys and units (base table and each GSI); `heat-model.ts` projects them.
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  type TransactWriteItem,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Container } from '#adapters/container.ts';
import { AUDIT_SHARDS, SHARD_PLAN } from '#adapters/dynamo/keys.ts';
import { TABLE_DEFINITION } from '#adapters/dynamo/table-definition.ts';
import { setRiskConfig } from '#app/risk-admin.ts';
import { DAILY_VOLUME_PLAN } from '#domain/daily-volume.ts';
import { formatAmount } from '#domain/money.ts';
import { MERCHANT_DAY_MAX_SHARDS, merchantDayShards } from '#domain/risk-limits.ts';
import { CURRENCY, type FlowTarget, runPaymentFlow, timed } from './flows.ts';
import {
  DEFAULT_LOAD,
  type HeatRow,
  itemBytes,
  itemWriteAccesses,
  type KeyAccess,
  type KeyShape,
  keyShape,
  type Load,
  PARTITION_LIMITS,
  profileOf,
  projectHeat,
  readUnits,
  type ShapeRule,
  zipfExponentFor,
} from './heat-model.ts';
import { heading, keyValues, num, table, wrap } from './report.ts';

type Item = Record<string, AttributeValue>;
const { partitionKey: PK, sortKey: SK } = TABLE_DEFINITION;

/** The merchant account balance payments pay into (its settlement account: one per merchant, so merchant-scoped). */
const SETTLEMENT_ACCOUNT = 'settlement';

/**
 * The merchant-day counters an operator gives a merchant peaking at `paymentsPerSecond`: every payment reserves its
 * counter in a transaction (2 WCU), and a counter should stay under half a partition's 1,000 WCU/s — so
 * ⌈rate × 2 / 500⌉ counters, rounded up to a power of two (random draws run the hottest a little over the mean).
 * 20,000 payments/s (the largest merchant at 100,000/s) → 80 → 128. docs/risk.md, "Merchant-day counters".
 */
function merchantDayShardsFor(paymentsPerSecond: number): number {
  const needed = Math.ceil((paymentsPerSecond * 2) / 500);
  return Math.min(MERCHANT_DAY_MAX_SHARDS, 2 ** Math.ceil(Math.log2(Math.max(1, needed))));
}

/** The count for the largest merchant at the default load (the design target), given to the sample merchant. */
const MERCHANT_DAY_SHARDS = merchantDayShardsFor(DEFAULT_LOAD.paymentsPerSecond * DEFAULT_LOAD.topMerchantShare);

/**
 * Every key shape of the single table (`src/adapters/dynamo/keys.ts`, `channel-keys.ts`), first match wins. A sharded
 * index key takes its index's count in the latest step of `SHARD_PLAN` (the sampled keys may be of an earlier step);
 * GSI1's listing keys take each merchant's own count, the one an operator sets for its rate (`listingShardsFor`).
 */
export const SHAPE_RULES: readonly ShapeRule[] = [
  {
    index: 'GSI1',
    pattern: /^MERCHANT#[^#]+#(REFUNDS|EVENTS)#\d+$/,
    shape: 'MERCHANT#{m}#$1#{shard}',
    scope: 'merchant',
    shards: 'listing',
  },
  {
    index: 'GSI1',
    pattern: /^MERCHANT#[^#]+#\d+$/,
    shape: 'MERCHANT#{m}#{shard}',
    scope: 'merchant',
    shards: 'listing',
  },
  {
    index: 'GSI1',
    pattern: /^MERCHANT#[^#]+(#REFUNDS|#EVENTS)?$/,
    shape: 'MERCHANT#{m}$1 (unsharded)',
    scope: 'merchant',
  },
  {
    index: 'GSI2',
    pattern: /^CHANNEL#([^#]+)#[^#]+#\d+$/,
    shape: 'CHANNEL#{channel}#{day}#{shard}',
    scope: 'channel',
    shards: 'n',
    channel: '$1',
  },
  {
    index: 'GSI2',
    pattern: /^CHANNEL#([^#]+)#[^#]+$/,
    shape: 'CHANNEL#{channel}#{day} (unsharded)',
    scope: 'channel',
    channel: '$1',
  },
  { index: 'GSI3', pattern: /^EXPIRY#[^#]+#\d+$/, shape: 'EXPIRY#{minute}#{shard}', scope: 'global', shards: 'n' },
  // A minute before EXPIRY_SHARDED_SINCE is still one key; projected, like every index key, at the plan's latest count.
  { index: 'GSI3', pattern: /^EXPIRY#[^#]+$/, shape: 'EXPIRY#{minute}#{shard}', scope: 'global', shards: 'n' },
  { index: 'table', pattern: /^MERCHANT#[^#]+$/, shape: 'MERCHANT#{m} (profile)', scope: 'merchant' },
  { index: 'table', pattern: /^MERCHANT#[^#]+#ORDER#/, shape: 'MERCHANT#{m}#ORDER#{order_no}', scope: 'entity' },
  { index: 'table', pattern: /^MERCHANT#[^#]+#REFUND#/, shape: 'MERCHANT#{m}#REFUND#{refund_no}', scope: 'entity' },
  {
    index: 'table',
    pattern: /^RATE#[^#]+#([^#]+)(#\d+)?$/,
    shape: 'RATE#{m}#$1#{sub-bucket}',
    scope: 'merchant',
    shards: 'rate',
  },
  {
    index: 'table',
    pattern: new RegExp(`^ACCOUNT#[^#]+#${SETTLEMENT_ACCOUNT}#[^#]+$`),
    shape: 'ACCOUNT#{m}#{settlement}#{cur}',
    scope: 'merchant',
  },
  { index: 'table', pattern: /^ACCOUNT#/, shape: 'ACCOUNT#{m}#{payer or user}#{cur}', scope: 'entity' },
  { index: 'table', pattern: /^CHANNEL#([^#]+)$/, shape: 'CHANNEL#{channel}', scope: 'channel', channel: '$1' },
  {
    index: 'table',
    pattern: /^VOLUME#([^#]+)#[^#]+#\d+$/,
    shape: 'VOLUME#{channel}#{day}#{shard}',
    scope: 'channel',
    shards: DAILY_VOLUME_PLAN.at(-1)?.shards ?? 1,
    channel: '$1',
  },
  { index: 'table', pattern: /^RISK#CONFIG$/, shape: 'RISK#CONFIG', scope: 'global' },
  { index: 'table', pattern: /^RISK#CONFIG#[^#]+$/, shape: 'RISK#CONFIG#{m}', scope: 'merchant' },
  { index: 'table', pattern: /^RISK#BLACKLIST$/, shape: 'RISK#BLACKLIST', scope: 'global' },
  {
    index: 'table',
    pattern: /^RISK#MERCHANT#[^#]+#\d+$/,
    shape: 'RISK#MERCHANT#{m}#{shard} (merchant day)',
    scope: 'merchant',
    shards: MERCHANT_DAY_SHARDS,
  },
  { index: 'table', pattern: /^RISK#MERCHANT#[^#]+$/, shape: 'RISK#MERCHANT#{m} (unsharded)', scope: 'merchant' },
  { index: 'table', pattern: /^RISK#(PAYER|IP|DEVICE)#/, shape: 'RISK#$1#{subject}', scope: 'entity' },
  { index: 'table', pattern: /^AUDIT#[^#]+#\d+$/, shape: 'AUDIT#{day}#{shard}', scope: 'global', shards: AUDIT_SHARDS },
  { index: 'table', pattern: /^RECON#/, shape: 'RECON#{day}#{channel}', scope: 'global' },
  { index: 'table', pattern: /^(PAYMENT|REFUND|JOURNAL|EVENT|NONCE|IDEM)#/, shape: '$1#{id}', scope: 'entity' },
  // A routed payment's daily-volume reservation record (`VOLRES#{payment}.{channel}`), confirmed by its creation.
  { index: 'table', pattern: /^VOLRES#/, shape: 'VOLRES#{payment}.{channel}', scope: 'entity' },
  { index: 'table', pattern: /^SANDBOX#(PAYMENT|REFUND)#/, shape: 'SANDBOX#$1#{id} (sandbox only)', scope: 'entity' },
];

/** Why a GSI1 listing key of a merchant at the default count may run hot (the projected `(unmarked)` rows). */
const UNMARKED_MERCHANT =
  "a large merchant nobody raised: from 2026-12-05 a merchant's listing has 1 shard until an operator appends a step (npm run merchant -- listing-shards add, sized by listingShardsFor: 256 for the largest); the rows without '(unmarked)' are the same load with every merchant at that count";

/**
 * Keys over 50 % of their limit at the default load that are known and accepted, with why (docs/scaling.md has the
 * longer reasoning). Keyed by `index shape kind`.
 */
export const HEAT_EXCEPTIONS: Readonly<Record<string, string>> = {
  'table ACCOUNT#{m}#{settlement}#{cur} write':
    "the merchant's settlement account credited by every balance payment, until an operator marks it hot (npm run wallet -- hot set: up to 40 sub-balances; bench section 13)",
  'GSI1 MERCHANT#{m}#{shard} (unmarked) write': UNMARKED_MERCHANT,
  'GSI1 MERCHANT#{m}#EVENTS#{shard} (unmarked) write': UNMARKED_MERCHANT,
  'GSI1 MERCHANT#{m}#REFUNDS#{shard} (unmarked) write': UNMARKED_MERCHANT,
  'table MERCHANT#{m} (profile) read':
    'the merchant profile, read through a per-container cache (MERCHANT_CACHE_TTL_MS, 1 s deployed): at most one read per warm container per TTL, whatever the request rate (this sample is one local container, its flows slower than the TTL)',
  'table RISK#CONFIG read':
    'the risk configuration, read through a per-container cache (RISK_CACHE_TTL_MS, 5 s deployed): at most one read per warm container per TTL, as above',
  'table RISK#CONFIG#{m} read': 'as RISK#CONFIG',
  'table RISK#BLACKLIST read':
    "the blacklist's version, read once per warm container per TTL (RISK_CACHE_TTL_MS); the list itself only after a change",
  'table CHANNEL#{channel} read':
    'channel health and profile, read through per-container caches (1 s and 5 s): at most one read per warm container per TTL, as above',
};

/**
 * The sample merchant's merchant-day limit, so its counter is measured: a limit no sample reaches, on the count the
 * rule above gives for its projected peak, set the day before (a count applies from the next UTC day) as an operator
 * would — through `setRiskConfig`, audited.
 */
async function configureMerchantDay(container: Container, merchantId: string, shards: number) {
  const now = container.clock();
  const yesterday = new Date(now.getTime() - 86_400_000);
  await setRiskConfig(
    { ...container, clock: () => yesterday },
    { limits: { [CURRENCY]: { merchant_day: '1000000000.00' } }, merchant_day_shards: shards },
    merchantId,
  );
  const config = await container.riskStore.config(merchantId);
  const day = now.toISOString().slice(0, 10);
  if (!config || merchantDayShards(config, day) !== shards) throw new Error('the merchant-day count is not in force');
}

/** The index's shard count in the plan's latest step (what keys get once every step has started). */
function plannedShards(index: string): number {
  const latest = (steps: readonly { shards: number }[]) => steps.at(-1)?.shards ?? 1;
  if (index === 'GSI2') return latest(SHARD_PLAN.settlementDay);
  if (index === 'GSI3') return latest(SHARD_PLAN.expiryMinute);
  return 1;
}

/**
 * Section 11: `flows` channel flows (the sandbox recharge: POST payment → callback → GET balance, standing in for
 * Alipay and WeChat Pay) and `flows` balance payments (payer wallet → the merchant's settlement account), one at a
 * time, every key recorded; then the projection to `load` payments/s.
 */
export async function measureKeyHeat(target: FlowTarget, options: { flows: number; load: number }) {
  const container = (await import('#adapters/container.ts')).getContainer();
  await configureMerchantDay(container, target.merchant.merchantId, MERCHANT_DAY_SHARDS);
  const recorder = recordKeyAccesses(container.db);
  try {
    // Balance payers: funded by a recharge each before recording (not part of the sample).
    const payers = Array.from({ length: Math.min(options.flows, 10) }, (_, i) => `heat-payer-${i}`);
    for (const [i, payer] of payers.entries()) {
      await runPaymentFlow(target, { orderNo: `heat-fund-${i}`, accountId: payer, amountMinor: 1_000_000, before: 0 });
    }
    const channel = await recorder.during(async () => {
      for (let i = 0; i < options.flows; i++) {
        const flow = { orderNo: `heat-${i}`, accountId: `heat-user-${i}`, amountMinor: 100 + i, before: 0 };
        await runPaymentFlow(target, flow);
        // The routing step of a payment that names no channel, when its channel has a daily limit: its volume
        // reservation, made by the gateway's own repository (the local stack has no Alipay to route to). The
        // stand-in channel's key is projected onto each flow's channel, as the flow's other channel keys are.
        // On the first day of the plan's latest count, as the index keys take their latest count (`plannedShards`).
        const day = DAILY_VOLUME_PLAN.at(-1)?.from ?? new Date().toISOString().slice(0, 10);
        const key = { channel: 'SANDBOX' as const, day, currency: CURRENCY };
        await container.dailyVolume.reserveDailyVolume(
          key,
          flow.amountMinor,
          Number.MAX_SAFE_INTEGER,
          `pay_heat_${i}`,
          new Date(),
        );
      }
    });
    const balance = await recorder.during(async () => {
      for (let i = 0; i < options.flows; i++) await runBalancePayment(target, i, payers[i % payers.length] ?? '');
    });
    const shape = (access: KeyAccess): KeyAccess & KeyShape => ({
      ...access,
      ...keyShape(access.index, access.key, SHAPE_RULES, plannedShards),
    });
    const profiles = {
      channel: profileOf(channel.accesses.map(shape), options.flows, 'SANDBOX'),
      balance: profileOf(balance.accesses.map(shape), options.flows),
    };
    const load: Load = { ...DEFAULT_LOAD, paymentsPerSecond: options.load };
    const rows = projectHeat(profiles, load);
    return {
      sample_flows: { channel: options.flows, balance: options.flows },
      recorded_calls: channel.calls + balance.calls,
      sample_elapsed_ms: channel.elapsedMs + balance.elapsedMs,
      load: { ...load, zipf_exponent: zipfExponentFor(load.merchants, load.topMerchantShare) },
      merchant_day_shards: MERCHANT_DAY_SHARDS,
      limits: PARTITION_LIMITS,
      rows: rows.map((row) => ({ ...row, exception: HEAT_EXCEPTIONS[rowId(row)] })),
    };
  } finally {
    recorder.stop();
  }
}

const rowId = (row: Pick<HeatRow, 'index' | 'shape' | 'kind'>) => `${row.index} ${row.shape} ${row.kind}`;

/** POST /v1/payments with channel BALANCE: `payer`'s wallet pays the merchant's settlement account (201, SUCCEEDED). */
async function runBalancePayment(target: FlowTarget, index: number, payer: string) {
  const body = {
    ...{ order_no: `heat-balance-${index}`, amount: formatAmount(100 + index, CURRENCY), currency: CURRENCY },
    ...{ subject: 'Balance payment', channel: 'BALANCE', method: 'BALANCE' },
    ...{ payer_account_id: payer, account_id: SETTLEMENT_ACCOUNT },
  };
  const created = await target.merchant.request('POST', '/v1/payments', body);
  if (created.status !== 201 || (created.body as { status?: string }).status !== 'SUCCEEDED')
    throw new Error(`balance payment ${index}: HTTP ${created.status} ${JSON.stringify(created.body)}`);
}

type Input = {
  TableName?: string;
  IndexName?: string;
  Key?: Item;
  Item?: Item;
  ConsistentRead?: boolean;
  KeyConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
  TransactItems?: (TransactWriteItem & { Get?: { TableName?: string; Key?: Item } })[];
  RequestItems?: Record<string, WriteRequest[] | { Keys?: Item[]; ConsistentRead?: boolean }>;
};
type Output = { Item?: Item; Items?: Item[]; Responses?: Record<string, Item[]> | { Item?: Item }[] };

/**
 * Records the partition keys and units of every call of `client` (a `build`-step middleware: inputs and outputs
 * marshalled, once per call however often the SDK retries) while `during` runs. A write's item images before and
 * after are read with a separate client (strongly consistent), so its index entries follow DynamoDB's rules.
 */
function recordKeyAccesses(client: Pick<DynamoDBDocumentClient, 'middlewareStack'>) {
  const images = new DynamoDBClient({});
  let sink: KeyAccess[] | undefined;
  let calls = 0;
  const image = async (table: string | undefined, key: Item | undefined) => {
    if (!table || !key?.[PK] || !key[SK]) return undefined;
    const command = new GetItemCommand({
      TableName: table,
      Key: { [PK]: key[PK], [SK]: key[SK] },
      ConsistentRead: true,
    });
    return (await images.send(command)).Item;
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const accesses = sink;
      if (!accesses) return next(args);
      calls++;
      const command = String(context.commandName ?? '').replace(/Command$/, '');
      const input = args.input as Input;
      const writes = itemWrites(command, input);
      const before = await Promise.all(writes.map((w) => image(w.table, w.key)));
      let failed = false;
      let output: Output | undefined;
      try {
        const result = await next(args);
        output = result.output as Output;
        return result;
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        for (const [i, write] of writes.entries()) {
          const after =
            failed || write.kind === 'delete'
              ? undefined
              : write.kind === 'put'
                ? write.item
                : await image(write.table, write.key);
          const transactional = command === 'TransactWriteItems';
          const change = {
            before: before[i],
            after: write.kind === 'check' ? before[i] : after,
            transactional,
            failed,
          };
          accesses.push(...itemWriteAccesses(change, TABLE_DEFINITION));
        }
        if (output && !failed) accesses.push(...readAccesses(command, input, output));
      }
    },
    { step: 'build', name: 'benchKeyHeat', override: true },
  );
  return {
    /** Runs `work` with recording on; returns what it recorded. */
    during: async (work: () => Promise<void>) => {
      const accesses: KeyAccess[] = [];
      const before = calls;
      sink = accesses;
      try {
        const { elapsedMs } = await timed(work);
        return { accesses, calls: calls - before, elapsedMs };
      } finally {
        sink = undefined;
      }
    },
    stop: () => {
      sink = undefined;
      client.middlewareStack.remove('benchKeyHeat');
      images.destroy();
    },
  };
}

type ItemWrite = { table?: string; key?: Item; item?: Item; kind: 'put' | 'update' | 'delete' | 'check' };

/** The items a write call writes (or, a transaction's condition check, reads as a write). */
function itemWrites(command: string, input: Input): ItemWrite[] {
  const of = (kind: ItemWrite['kind'], w: { TableName?: string; Key?: Item; Item?: Item } | undefined): ItemWrite[] =>
    w ? [{ kind, table: w.TableName, key: w.Key ?? w.Item, ...(w.Item ? { item: w.Item } : {}) }] : [];
  if (command === 'PutItem') return of('put', input);
  if (command === 'UpdateItem') return of('update', input);
  if (command === 'DeleteItem') return of('delete', input);
  if (command === 'TransactWriteItems')
    return (input.TransactItems ?? []).flatMap((t) => [
      ...of('put', t.Put),
      ...of('update', t.Update),
      ...of('delete', t.Delete),
      ...of('check', t.ConditionCheck),
    ]);
  if (command === 'BatchWriteItem')
    return Object.entries(input.RequestItems ?? {}).flatMap(([table, requests]) =>
      (Array.isArray(requests) ? requests : []).flatMap((r) => [
        ...of('put', r.PutRequest ? { TableName: table, Item: r.PutRequest.Item } : undefined),
        ...of('delete', r.DeleteRequest ? { TableName: table, Key: r.DeleteRequest.Key } : undefined),
      ]),
    );
  return [];
}

/** The partition keys a read call read, with units by the bytes it returned. */
function readAccesses(command: string, input: Input, output: Output): KeyAccess[] {
  const mode = input.ConsistentRead ? 'strong' : 'eventual';
  const read = (
    key: string | undefined,
    bytes: number,
    how: Parameters<typeof readUnits>[1] = mode,
    index = 'table',
  ) => (key === undefined ? [] : [{ index, key, kind: 'read' as const, units: readUnits(bytes, how) }]);
  if (command === 'GetItem') return read(input.Key?.[PK]?.S, itemBytes(output.Item));
  if (command === 'Query') {
    const index = input.IndexName ?? 'table';
    const attribute = TABLE_DEFINITION.globalSecondaryIndexes.find((i) => i.indexName === index)?.partitionKey ?? PK;
    const bytes = (output.Items ?? []).reduce((n, item) => n + itemBytes(item), 0);
    return read(queryPartition(input, attribute), bytes, mode, index);
  }
  if (command === 'BatchGetItem') {
    const responses = (output.Responses ?? {}) as Record<string, Item[]>;
    return Object.entries(input.RequestItems ?? {}).flatMap(([table, request]) => {
      const consistent = !Array.isArray(request) && request.ConsistentRead ? 'strong' : 'eventual';
      const keys = Array.isArray(request) ? [] : (request.Keys ?? []);
      return keys.flatMap((key) => {
        const item = responses[table]?.find((i) => i[PK]?.S === key[PK]?.S && i[SK]?.S === key[SK]?.S);
        return read(key[PK]?.S, itemBytes(item), consistent);
      });
    });
  }
  if (command === 'TransactGetItems') {
    const responses = (output.Responses ?? []) as { Item?: Item }[];
    return (input.TransactItems ?? []).flatMap((t, i) =>
      read(t.Get?.Key?.[PK]?.S, itemBytes(responses[i]?.Item), 'transactional'),
    );
  }
  return [];
}

/** The partition key value a query's key condition names (`attr = :value`, attribute names resolved). */
export function queryPartition(
  input: Pick<Input, 'KeyConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
  attribute: string,
): string | undefined {
  for (const [, name, value] of (input.KeyConditionExpression ?? '').matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
    const resolved = name?.startsWith('#') ? input.ExpressionAttributeNames?.[name] : name;
    if (resolved === attribute && value) return input.ExpressionAttributeValues?.[value]?.S;
  }
  return undefined;
}

export type HeatFigures = Awaited<ReturnType<typeof measureKeyHeat>>;

/** Section 11, printed: the hottest key shapes at the target load against the partition limits. */
export function printHeatSection(f: HeatFigures): void {
  console.log(heading(`11. Key heat: hottest partition keys at ${num(f.load.paymentsPerSecond)} payments/s`));
  const mix = f.load.mix.map((m) => `${num(m.share * 100)} % ${m.channel}`).join(' / ');
  console.log(
    keyValues([
      [
        'sample',
        `${f.sample_flows.channel} sandbox recharge flows (each with a routed payment's daily-volume reservation) + ${f.sample_flows.balance} balance payments, one at a time`,
      ],
      ['recorded calls', `${num(f.recorded_calls)} (${num(f.sample_elapsed_ms / 1000, 1)} s)`],
      ['load', `${num(f.load.paymentsPerSecond)} payments/s: ${mix}`],
      [
        'merchants',
        `${num(f.load.merchants)}, Zipf s = ${num(f.load.zipf_exponent, 3)} (largest ${num(f.load.topMerchantShare * 100)} %), seed ${f.load.seed}`,
      ],
      [
        'merchant day',
        `the sample merchant's merchant-day limit on ${num(f.merchant_day_shards)} counters (the rule for its peak; every merchant projected so)`,
      ],
      ['limits', `${num(f.limits.write)} WCU/s, ${num(f.limits.read)} RCU/s per partition key; goal ≤ 50 %`],
    ]),
  );
  const shown = f.rows.filter((row, i) => i < 15 || row.utilisation > 0.5);
  const over = (row: HeatFigures['rows'][number]) => row.utilisation > 0.5;
  const exceptions = [...new Set(shown.filter(over).flatMap((row) => (row.exception ? [row.exception] : [])))];
  const perFlow = (row: HeatRow) =>
    Object.entries(row.unitsPerFlow)
      .map(([kind, units]) => `${num(units, 2)} ${kind}`)
      .join(', ');
  console.log(
    table(
      ['index', 'key shape', 'r/w', 'units per flow', 'hottest key', '>units/s', '>of limit', 'verdict'],
      shown.map((row) => [
        row.index,
        row.shape,
        row.kind === 'write' ? 'W' : 'R',
        perFlow(row),
        row.hottest,
        num(row.unitsPerSecond),
        `${num(row.utilisation * 100, 1)} %`,
        row.utilisation <= 0.5
          ? 'ok'
          : row.exception
            ? `exception ${exceptions.indexOf(row.exception) + 1}`
            : 'OVER 50 %',
      ]),
    ),
  );
  for (const [i, text] of exceptions.entries()) console.log(wrap(`  ${i + 1}. ${text}`, 118, '     '));
  const unexplained = f.rows.filter((row) => over(row) && !row.exception);
  console.log(
    unexplained.length
      ? `  ${unexplained.length} key shape(s) over 50 % of their limit without a named exception`
      : `  every key shape ≤ 50 % of its limit, or a named exception (${f.rows.length} shapes)`,
  );
}
