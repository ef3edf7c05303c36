// Long because it holds section 2's raw write replay and section 4's per-call capacity meter with its per-item
// re-measurement, plus the one price table. Sections 2 and 4 (BENCH_RESULT `dynamo`, `capacity`).
import type { AttributeValue as AV, ConsumedCapacity, WriteRequest } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient, TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { TABLE_DEFINITION } from '#adapters/dynamo/table-definition.ts';
import {
  accountFor,
  amountFor,
  FLOW_STEPS,
  type FlowRun,
  type FlowStep,
  type FlowTarget,
  perSecond,
  refundNoFor,
  runPaymentFlow,
  runPool,
  runRefundFlow,
  summarize,
  timed,
  verifyBalances,
} from './flows.ts';

/**
 * The ONE price table of the bench: AWS list prices in us-east-1 as of 2025, free tiers ignored, and the two
 * assumptions the dollar figures rest on. It mirrors docs/cost-model.md (formulas, sources, assumptions): change both.
 */
export const PRICES = {
  label: 'us-east-1 list prices as of 2025, free tiers ignored',
  dynamoWritePerMillion: 0.625,
  dynamoReadPerMillion: 0.125,
  sfnPer1000Transitions: 0.025,
  sqsPerMillionRequests: 0.4,
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaMemoryMb: 512, // every gateway function's memory (lib/gateway-function.ts)
  // Assumed: an idle SQS event source mapping keeps 5 pollers each long-polling 20 s.
  sqsIdlePollers: 5,
  sqsLongPollSeconds: 20,
} as const;

/** The DynamoDB APIs that write; of the others, these read and accept `ReturnConsumedCapacity`. */
export const WRITES: ReadonlySet<string> = new Set(
  'PutItem UpdateItem DeleteItem TransactWriteItems BatchWriteItem'.split(' '),
);
const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
type Item = Record<string, AV>;
type WriteInput = { TableName?: string; Item?: Item; Key?: Item; UpdateExpression?: string } & {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
  TransactItems?: Record<string, WriteInput>[];
  RequestItems?: Record<string, WriteRequest[]>;
};
/** A write call the recorder kept: its API, its marshalled input and how many items it wrote. */
type RecordedWrite = { command: string; input: WriteInput; items: number };
const commandOf = (context: { commandName?: string }) => String(context.commandName ?? '?').replace(/Command$/, '');

/**
 * Counts every DynamoDB API call of a client (calls, items, failures per API) and keeps each write's marshalled input
 * for the raw replay: a `build`-step middleware, so a call counts once however often the SDK retries it.
 */
export function recordDynamoCalls(client: Pick<DynamoDBDocumentClient, 'middlewareStack'>) {
  const counts = new Map<string, { calls: number; items: number; failures: number }>();
  const writes: RecordedWrite[] = [];
  let recording = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!recording) return next(args);
      const command = commandOf(context);
      const input = args.input as WriteInput;
      const items =
        input.TransactItems?.length ??
        (command === 'BatchWriteItem' ? Object.values(input.RequestItems ?? {}).flat().length : 1);
      const count = counts.get(command) ?? { calls: 0, items: 0, failures: 0 };
      counts.set(command, { ...count, calls: count.calls + 1, items: count.items + items });
      if (WRITES.has(command)) writes.push({ command, input, items });
      return next(args).catch((error: unknown) => {
        const failed = counts.get(command);
        if (failed) failed.failures++;
        throw error;
      });
    },
    { step: 'build', name: 'benchDynamoCallRecorder', override: true },
  );
  return {
    counts,
    writes,
    /** Starts recording afresh: counts and writes cleared. */
    start: () => {
      counts.clear();
      writes.length = 0;
      recording = true;
    },
    /** Stops recording; `resume` records again, adding to what was recorded. */
    stop: () => {
      recording = false;
    },
    resume: () => {
      recording = true;
    },
  };
}

/** One raw replay of recorded writes: its wall-clock and Node CPU time, and each call's latency. */
export type RawReplay = { writes: number; elapsedMs: number; nodeCpuMs: number; latenciesMs: number[] };
/** One round of section 2: the flows' time (ms) and the raw replay of their writes. */
export type WriteRound = { flowMs: number; raw: RawReplay };

/**
 * Replays `writes` raw against DynamoDB Local with a plain client — same calls, mix, item bodies and concurrency, each
 * conditional like the gateway's, only the partition key made new (`RAW#<call>#<original>`, `firstCall` numbering
 * the calls across replays).
 */
export async function replayRaw(writes: readonly RecordedWrite[], concurrency: number, firstCall = 0) {
  // The SDK loads lazily, here and below: report.ts imports this module into the sample processes.
  const sdk = await import('@aws-sdk/client-dynamodb');
  const client = new sdk.DynamoDBClient({});
  // The SDK's command class of each write API, looked up by name (`PutItem` → `PutItemCommand`).
  const commands = sdk as unknown as Record<string, new (input: WriteInput) => never>;
  const sendRaw = async (command: string, input: WriteInput) => {
    const Command = WRITES.has(command) ? commands[`${command}Command`] : undefined;
    if (!Command) throw new Error(`cannot replay ${command}`);
    const output = (await client.send(new Command(input))) as { UnprocessedItems?: object };
    if (Object.keys(output.UnprocessedItems ?? {}).length) throw new Error('raw BatchWriteItem left unprocessed items');
  };
  const latenciesMs: number[] = [];
  const raw = await timed(() =>
    runPool(writes.length, concurrency, async (index) => {
      const write = writes[index];
      if (!write) return;
      const started = performance.now();
      await sendRaw(write.command, rekeyed(write.input, firstCall + index));
      latenciesMs.push(performance.now() - started);
    }),
  ).finally(() => client.destroy());
  return { writes: writes.length, elapsedMs: raw.elapsedMs, nodeCpuMs: raw.nodeCpuMs, latenciesMs };
}

/**
 * Section 2 (BENCH_RESULT `dynamo`): the measured flows' writes against the same writes replayed raw (`replayRaw`),
 * in `rounds` interleaved like the run did them — each round of flows followed at once by its own writes raw, so both
 * rates are taken with DynamoDB Local (and its JIT) equally warm and its table equally full. `ratio_flow_to_raw` is
 * the share of DynamoDB Local's raw write rate the full flow (HTTP, auth, validation, reads, responses around the
 * writes) sustains.
 */
export function writeFigures(recorder: ReturnType<typeof recordDynamoCalls>, run: FlowRun, rounds: WriteRound[]) {
  const { writes } = recorder;
  if (writes.length === 0)
    throw new Error('no DynamoDB write was recorded: the handlers do not share the instrumented container');
  const replays = rounds.map((round) => round.raw);
  const replayed = replays.reduce((sum, replay) => sum + replay.writes, 0);
  if (replayed !== writes.length) throw new Error(`replayed ${replayed} of the ${writes.length} recorded writes`);
  const rawElapsedMs = replays.reduce((sum, replay) => sum + replay.elapsedMs, 0);
  const flowWritesPerSecond = perSecond(writes.length, run.elapsedMs);
  const rawWritesPerSecond = perSecond(writes.length, rawElapsedMs);
  return {
    commands: Object.fromEntries(recorder.counts),
    /** Each round's flow/raw ratio, in order (a rising series means the run was still warming up). */
    round_ratios: rounds.map((round) => round.raw.elapsedMs / round.flowMs),
    write_calls: writes.length,
    write_items: writes.reduce((sum, write) => sum + write.items, 0),
    write_calls_per_flow: writes.length / run.flows,
    flow_writes_per_s: flowWritesPerSecond,
    raw_elapsed_ms: rawElapsedMs,
    raw_writes_per_s: rawWritesPerSecond,
    raw_latency_ms: summarize(replays.flatMap((replay) => replay.latenciesMs)),
    raw_node_cpu_ms: replays.reduce((sum, replay) => sum + replay.nodeCpuMs, 0),
    ratio_flow_to_raw: flowWritesPerSecond / rawWritesPerSecond,
  };
}

const PK = TABLE_DEFINITION.partitionKey;

/** The write with every key made new and the condition `attribute_not_exists(pk)`, which therefore holds. */
function rekeyed(input: WriteInput, call: number): WriteInput {
  const rekey = (item: Item | undefined): Item => {
    const original = item?.[PK]?.S;
    if (!item || original === undefined) throw new Error(`cannot replay a write without a string ${PK}`);
    return { ...item, [PK]: { S: `RAW#${call}#${original}` } };
  };
  if (input.TransactItems) {
    return {
      TransactItems: input.TransactItems.map((item) => {
        const [[kind, write] = []] = Object.entries(item);
        if (!kind || !write) throw new Error('cannot replay an empty transaction item');
        return { [kind]: rekeyed(write, call) };
      }),
    };
  }
  if (input.RequestItems) {
    const request = (entry: WriteRequest): WriteRequest =>
      entry.PutRequest
        ? { PutRequest: { Item: rekey(entry.PutRequest.Item) } }
        : { DeleteRequest: { Key: rekey(entry.DeleteRequest?.Key) } };
    const tables = Object.entries(input.RequestItems).map(([table, requests]) => [table, requests.map(request)]);
    return { RequestItems: Object.fromEntries(tables) };
  }
  // Same update expression; the placeholders only the original condition used go with it.
  const used = new Set(input.UpdateExpression?.match(/[#:][A-Za-z0-9_]+/g) ?? []);
  const pick = <T>(map: Record<string, T> | undefined) => {
    const kept = Object.entries(map ?? {}).filter(([name]) => used.has(name));
    return kept.length ? Object.fromEntries(kept) : undefined;
  };
  const { UpdateExpression, ExpressionAttributeNames: names, ExpressionAttributeValues: values } = input;
  const update = { UpdateExpression, ExpressionAttributeNames: pick(names), ExpressionAttributeValues: pick(values) };
  return {
    ...{ TableName: input.TableName, ConditionExpression: `attribute_not_exists(${PK})` },
    ...(input.Item ? { Item: rekey(input.Item) } : { Key: rekey(input.Key) }),
    ...(UpdateExpression ? update : {}),
  };
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type Units = number | null;

/**
 * One metered DynamoDB call: `entities` = the `entity` of each item written, or of the item read (none if not found);
 * `units` = what DynamoDB Local reported (WCU or RCU; null if none); `perItem` (transactions) = standard units of each
 * item re-measured alone, base table and indexes.
 */
type MeteredCall = { cycle: number; step: FlowStep; command: string; write: boolean; entities: string[] } & {
  items: number;
  units: Units;
  perItem?: { table: number; indexes: number };
  perItemError?: string;
  failed: boolean;
};

/**
 * Section 4 (BENCH_RESULT `capacity`): `cycles` sequential recharge-and-full-refund cycles on one account with every
 * handler DynamoDB call metered (`ReturnConsumedCapacity: 'TOTAL'`) and attributed to the request that made it. The
 * account must end at 0.00 available / 0.00 frozen.
 */
export async function measureCapacity(target: FlowTarget, cycles: number) {
  const container = (await import('#adapters/container.ts')).getContainer();
  const scratch = await scratchItemMeter(container.config.tableName);
  const calls: MeteredCall[] = [];
  let at: { cycle: number; step: FlowStep } | undefined;
  container.db.middlewareStack.add(
    (next, context) => async (args) => {
      const command = commandOf(context);
      const write = WRITES.has(command);
      if (!at || !(write || READS.has(command))) return next(args);
      const input = args.input as Record<string, unknown> & {
        Item?: { entity?: unknown };
        TransactItems?: TransactItem[];
      };
      const written = input.TransactItems
        ? input.TransactItems.map((item) => item.Put?.Item ?? {})
        : [input.Item ?? {}];
      const entities = write ? written.map((item) => String(item.entity ?? '?')) : [];
      const call: MeteredCall = { ...at, command, write, entities, items: written.length, units: null, failed: false };
      calls.push(call);
      if (input.TransactItems) {
        await scratch.measure(input.TransactItems).then(
          (units) => (call.perItem = units),
          (error: Error) => (call.perItemError = error.message),
        );
      }
      try {
        const result = await next({ ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL' } });
        const output = result.output as {
          ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[];
          Item?: { entity?: unknown };
        };
        const consumed = [output.ConsumedCapacity ?? []].flat();
        const unitsOf = (c: ConsumedCapacity) =>
          (write ? c.WriteCapacityUnits : c.ReadCapacityUnits) ?? c.CapacityUnits;
        call.units = consumed.length ? consumed.reduce((sum, c) => sum + (unitsOf(c) ?? 0), 0) : null;
        if (!write && typeof output.Item?.entity === 'string') call.entities = [output.Item.entity];
        return result;
      } catch (error) {
        call.failed = true;
        throw error;
      }
    },
    { step: 'initialize', name: 'benchCapacityMeter', override: true },
  );
  try {
    const accountId = accountFor('capacity', 0);
    for (let cycle = 0; cycle < cycles; cycle++) {
      const mark = (step: FlowStep) => {
        at = { cycle, step };
      };
      try {
        const amountMinor = amountFor(cycle);
        const flow = { orderNo: `capacity-${cycle}`, accountId, amountMinor, before: 0 };
        const payment = { index: cycle, paymentId: await runPaymentFlow(target, flow, mark), accountId, amountMinor };
        await runRefundFlow(target, { refundNo: refundNoFor('capacity', payment), payment }, mark);
      } finally {
        at = undefined;
      }
    }
    await verifyBalances(target, new Map([[accountId, 0]]), true);
  } finally {
    container.db.middlewareStack.remove('benchCapacityMeter');
    scratch.destroy();
  }
  return capacityFigures(calls, cycles);
}

/**
 * Re-measures a transaction's items one at a time with DynamoDB Local's single-item accounting, which follows
 * DynamoDB's rules (its transactional figure does not): each item's CURRENT version is copied into a scratch table of
 * the same definition, then the new item is written there with `ReturnConsumedCapacity: 'INDEXES'`.
 */
async function scratchItemMeter(sourceTable: string) {
  const { DeleteCommand, GetCommand, PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const scratchTable = `${sourceTable}-bench-scratch`;
  const client = new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient({});
  await (await import('../local/tables.ts')).createGatewayTable(client, scratchTable);
  // The gateway's marshalling options, so the items have the same size.
  const db = (await import('#adapters/dynamo/client.ts')).createDocumentClient(client);
  const measureItem = async (item: TransactItem) => {
    const put = item.Put;
    if (!put?.Item || put.TableName !== sourceTable)
      throw new Error(`cannot re-measure a transaction item other than a Put into ${sourceTable}`);
    const { partitionKey, sortKey } = TABLE_DEFINITION;
    const Key = { [partitionKey]: put.Item[partitionKey], [sortKey]: put.Item[sortKey] };
    const { Item: current } = await db.send(new GetCommand({ TableName: sourceTable, Key, ConsistentRead: true }));
    if (current) await db.send(new PutCommand({ TableName: scratchTable, Item: current }));
    else await db.send(new DeleteCommand({ TableName: scratchTable, Key }));
    const { ConsumedCapacity: consumed } = await db.send(
      new PutCommand({ TableName: scratchTable, Item: put.Item, ReturnConsumedCapacity: 'INDEXES' }),
    );
    const table = consumed?.Table?.CapacityUnits;
    if (table === undefined) throw new Error('DynamoDB Local returned no per-table ConsumedCapacity for a PutItem');
    const indexUnits = { ...consumed?.GlobalSecondaryIndexes, ...consumed?.LocalSecondaryIndexes };
    const indexes = Object.values(indexUnits).reduce((sum, index) => sum + (index.CapacityUnits ?? 0), 0);
    return { table, indexes };
  };
  return {
    measure: async (items: readonly TransactItem[]) => {
      const units = await Promise.all(items.map(measureItem));
      return { table: units.reduce((n, u) => n + u.table, 0), indexes: units.reduce((n, u) => n + u.indexes, 0) };
    },
    destroy: () => db.destroy(),
  };
}

const STEP_GROUPS: readonly { label: string; steps: readonly FlowStep[] }[] = [
  { label: 'create payment (POST /v1/payments)', steps: ['create payment'] },
  { label: 'payment callback', steps: ['payment callback'] },
  { label: 'create refund (POST /v1/refunds)', steps: ['create refund'] },
  { label: 'refund callback', steps: ['refund callback'] },
  { label: 'GET balance + GET refund (auth nonces)', steps: ['balance read', 'refund read'] },
];

/** Sums units; null if any is missing. */
const sum = (values: readonly Units[]): Units =>
  values.some((value) => value === null) ? null : values.reduce<number>((total, value) => total + (value ?? 0), 0);
const div = (value: Units, by: number): Units => (value === null ? null : value / by);

/**
 * DynamoDB's documented per-item rule for a write: a transaction costs 2 × the standard units of each item
 * (re-measured alone); any other write is what DynamoDB Local reported.
 */
function perItemRule(call: MeteredCall): Units {
  if (call.command !== 'TransactWriteItems') return call.units;
  return call.perItem ? 2 * (call.perItem.table + call.perItem.indexes) : null;
}

/** The metered calls as per-cycle figures, shaped as BENCH_RESULT's `capacity`. */
function capacityFigures(calls: readonly MeteredCall[], cycles: number) {
  const isSandbox = (call: MeteredCall) =>
    call.entities.length > 0 && call.entities.every((e) => e.startsWith('SANDBOX'));
  const gateway = calls.filter((call) => !isSandbox(call));
  const transactions = calls.filter((call) => call.command === 'TransactWriteItems');
  const step = (label: string, of: readonly MeteredCall[]) => {
    const writes = of.filter((call) => call.write);
    const reads = of.filter((call) => !call.write);
    return {
      step: label,
      write_calls: writes.length / cycles,
      wcu_dynamodb_local: div(sum(writes.map((call) => call.units)), cycles),
      wru_per_item_rule: div(sum(writes.map(perItemRule)), cycles),
      read_calls: reads.length / cycles,
      rcu: div(sum(reads.map((call) => call.units)), cycles),
    };
  };
  const range = (units: (call: MeteredCall) => Units): [number, number] | null => {
    const totals = Array.from({ length: cycles }, (_, cycle) =>
      sum(gateway.filter((call) => call.write && call.cycle === cycle).map(units)),
    );
    return totals.every((total) => total !== null) && totals.length ? [Math.min(...totals), Math.max(...totals)] : null;
  };
  const total = step('total per cycle', gateway);
  const nonces = step(
    'auth nonces',
    gateway.filter((call) => call.write && call.entities.join() === 'NONCE'),
  );
  // Calls grouped by step and call; a stable sort keeps them, within a step, in the order they were first made.
  const rows = new Map<string, MeteredCall[]>();
  for (const c of calls) {
    const key = `${c.step}\u0000${c.command} ${c.entities.join('+') || '(not found)'}`;
    rows.set(key, [...(rows.get(key) ?? []), c]);
  }
  const price = (units: Units, perMillion: number) => (units === null ? null : units * perMillion);
  return {
    cycles,
    cycle: 'POST payment, payment callback, GET balance, POST refund (full), refund callback, GET refund',
    per_cycle: {
      ...total,
      wcu_dynamodb_local_range: range((call) => call.units),
      wru_per_item_rule_range: range(perItemRule),
      wru_index_writes: div(sum(transactions.map((call) => (call.perItem ? 2 * call.perItem.indexes : null))), cycles),
      wru_auth_nonces: nonces.wru_per_item_rule,
    },
    steps: STEP_GROUPS.map((group) =>
      step(
        group.label,
        gateway.filter((call) => group.steps.includes(call.step)),
      ),
    ),
    sandbox_channel_record: step('sandbox channel record', calls.filter(isSandbox)),
    transactions: {
      calls: transactions.length / cycles,
      items: transactions.reduce((n, call) => n + call.items, 0) / cycles,
      wcu_dynamodb_local: div(sum(transactions.map((call) => call.units)), cycles),
      wru_per_item_rule: div(sum(transactions.map(perItemRule)), cycles),
    },
    calls: [...rows]
      .sort(([, [a]], [, [b]]) => FLOW_STEPS.indexOf(a?.step as FlowStep) - FLOW_STEPS.indexOf(b?.step as FlowStep))
      .map(([key, of]) => {
        const [first] = of as [MeteredCall];
        const reported = div(sum(of.map((call) => call.units)), cycles);
        return {
          step: first.step,
          call: key.split('\u0000')[1] ?? '',
          kind: first.write ? 'write' : 'read',
          calls: of.length / cycles,
          items: of.reduce((n, call) => n + call.items, 0) / cycles,
          ...(first.write
            ? { wcu_dynamodb_local: reported, wru_per_item_rule: div(sum(of.map(perItemRule)), cycles) }
            : { rcu: reported }),
        };
      }),
    cost_usd_per_million_cycles: {
      writes_per_item_rule: price(total.wru_per_item_rule, PRICES.dynamoWritePerMillion),
      writes_dynamodb_local: price(total.wcu_dynamodb_local, PRICES.dynamoWritePerMillion),
      reads: price(total.rcu, PRICES.dynamoReadPerMillion),
    },
    prices_usd_per_million_request_units: { write: PRICES.dynamoWritePerMillion, read: PRICES.dynamoReadPerMillion },
    calls_without_consumed_capacity: calls.filter((call) => call.units === null && !call.failed).length,
    failed_calls: calls.filter((call) => call.failed).length,
    per_item_errors: [...new Set(calls.flatMap((call) => (call.perItemError ? [call.perItemError] : [])))],
  };
}

export type CapacityFigures = ReturnType<typeof capacityFigures>;
export type WriteFigures = ReturnType<typeof writeFigures>;
