import type { MeteredCall } from './capacity-meter.ts';
import { FLOW_STEPS, type FlowStep } from './flows.ts';

/** DynamoDB on-demand list prices in us-east-1, US$ per million request units. */
export const ON_DEMAND_PRICES = { writePerMillion: 0.625, readPerMillion: 0.125 } as const;

/** Capacity units per cycle; undefined when some call behind the figure returned none. */
export type Units = number | undefined;

/** One kind of DynamoDB call of one step, per cycle. */
export interface CallRow {
  step: FlowStep;
  call: string;
  write: boolean;
  calls: number;
  items: number;
  /** As DynamoDB Local reported it (WCU for writes, RCU for reads). */
  reported: Units;
  /** Writes only: DynamoDB's per-item rule applied to the re-measured items (= `reported` outside transactions). */
  perItemRule: Units;
}

/** A group of steps (or the total), per cycle. */
export interface StepFigures {
  label: string;
  writeCalls: number;
  reportedWcu: Units;
  perItemWru: Units;
  readCalls: number;
  rcu: Units;
}

/** The capacity one recharge-and-full-refund cycle consumes, from the metered sample. */
export interface CapacityFigures {
  cycles: number;
  rows: CallRow[];
  /** The gateway's writes and reads by step (the sandbox channel simulator's own record excluded). */
  steps: StepFigures[];
  total: StepFigures;
  /** Auth nonce writes of all signed merchant requests (already inside `steps`). */
  nonces: StepFigures;
  /** The simulated sandbox channel's own record (a real channel keeps it on its side, not in this table). */
  sandbox: StepFigures;
  /** Lowest and highest gateway write figure of a single cycle. */
  reportedRange: [number, number] | undefined;
  perItemRange: [number, number] | undefined;
  /** The part of `total.perItemWru` that is secondary-index writes. */
  indexWru: Units;
  /** Transactions: units DynamoDB Local reported vs the per-item rule, per cycle. */
  transactions: { calls: number; items: number; reported: Units; perItemRule: Units };
  /** Calls DynamoDB Local answered without ConsumedCapacity, failed calls, and why per-item figures are missing. */
  missing: number;
  failed: number;
  perItemErrors: string[];
  /** On-demand US$ per million cycles. */
  costPerMillionCycles: { writesReported: Units; writesPerItem: Units; reads: Units };
}

const STEP_GROUPS: readonly { label: string; steps: readonly FlowStep[] }[] = [
  { label: 'create payment (POST /v1/payments)', steps: ['create payment'] },
  { label: 'payment callback', steps: ['payment callback'] },
  { label: 'create refund (POST /v1/refunds)', steps: ['create refund'] },
  { label: 'refund callback', steps: ['refund callback'] },
  { label: 'GET balance + GET refund (auth nonces)', steps: ['balance read', 'refund read'] },
];

/** Turns the metered calls of `cycles` cycles into per-cycle figures. */
export function capacityFigures(cycles: number, calls: readonly MeteredCall[]): CapacityFigures {
  const gateway = calls.filter((call) => !isSandbox(call));
  const transactions = calls.filter((call) => call.command === 'TransactWriteItems');
  const perCycle = (value: Units) => (value === undefined ? undefined : value / cycles);
  const total = stepFigures('total per cycle', gateway, cycles);
  return {
    cycles,
    rows: callRows(calls, cycles),
    steps: STEP_GROUPS.map((group) =>
      stepFigures(
        group.label,
        gateway.filter((call) => group.steps.includes(call.step)),
        cycles,
      ),
    ),
    total,
    nonces: stepFigures('auth nonces', gateway.filter(isNonce), cycles),
    sandbox: stepFigures('sandbox channel record', calls.filter(isSandbox), cycles),
    reportedRange: cycleRange(gateway, cycles, (call) => call.units),
    perItemRange: cycleRange(gateway, cycles, perItemRule),
    indexWru: perCycle(sumUnits(transactions.map((call) => call.perItem && 2 * call.perItem.indexes))),
    transactions: {
      calls: transactions.length / cycles,
      items: transactions.reduce((sum, call) => sum + call.items, 0) / cycles,
      reported: perCycle(sumUnits(transactions.map((call) => call.units))),
      perItemRule: perCycle(sumUnits(transactions.map(perItemRule))),
    },
    missing: calls.filter((call) => call.units === undefined && !call.failed).length,
    failed: calls.filter((call) => call.failed).length,
    perItemErrors: [...new Set(calls.flatMap((call) => (call.perItemError ? [call.perItemError] : [])))],
    costPerMillionCycles: {
      writesReported: price(total.reportedWcu, ON_DEMAND_PRICES.writePerMillion),
      writesPerItem: price(total.perItemWru, ON_DEMAND_PRICES.writePerMillion),
      reads: price(total.rcu, ON_DEMAND_PRICES.readPerMillion),
    },
  };
}

/**
 * A write's units by DynamoDB's documented rule: a transaction costs 2 × the standard units of each of its items
 * (re-measured one at a time); any other write is what DynamoDB Local reported, its single-item accounting.
 */
function perItemRule(call: MeteredCall): Units {
  if (!call.write) return undefined;
  if (call.command !== 'TransactWriteItems') return call.units;
  return call.perItem && 2 * (call.perItem.table + call.perItem.indexes);
}

function stepFigures(label: string, calls: readonly MeteredCall[], cycles: number): StepFigures {
  const writes = calls.filter((call) => call.write);
  const reads = calls.filter((call) => !call.write);
  const perCycle = (value: Units) => (value === undefined ? undefined : value / cycles);
  return {
    label,
    writeCalls: writes.length / cycles,
    reportedWcu: perCycle(sumUnits(writes.map((call) => call.units))),
    perItemWru: perCycle(sumUnits(writes.map(perItemRule))),
    readCalls: reads.length / cycles,
    rcu: perCycle(sumUnits(reads.map((call) => call.units))),
  };
}

function callRows(calls: readonly MeteredCall[], cycles: number): CallRow[] {
  const rows = new Map<string, { step: FlowStep; call: string; write: boolean; of: MeteredCall[] }>();
  for (const call of calls) {
    const name = describe(call);
    const key = `${call.step}\u0000${name}`;
    const row = rows.get(key) ?? { step: call.step, call: name, write: call.write, of: [] };
    row.of.push(call);
    rows.set(key, row);
  }
  const order = (step: FlowStep) => FLOW_STEPS.indexOf(step);
  // Stable: within a step, calls stay in the order they were first made.
  return [...rows.values()]
    .sort((a, b) => order(a.step) - order(b.step))
    .map((row) => ({
      step: row.step,
      call: row.call,
      write: row.write,
      calls: row.of.length / cycles,
      items: row.of.reduce((sum, call) => sum + call.items, 0) / cycles,
      reported: perCycleSum(row.of, cycles, (call) => call.units),
      perItemRule: row.write ? perCycleSum(row.of, cycles, perItemRule) : undefined,
    }));
}

/** e.g. `PutItem NONCE`, `TransactWriteItems PAYMENT+GUARD`, `GetItem MERCHANT`, `GetItem (not found)`. */
function describe(call: MeteredCall): string {
  const entities = call.entities.length ? call.entities.join('+') : '(not found)';
  return `${call.command} ${entities}`;
}

function isNonce(call: MeteredCall): boolean {
  return call.write && call.entities.length === 1 && call.entities[0] === 'NONCE';
}

function isSandbox(call: MeteredCall): boolean {
  return call.entities.length > 0 && call.entities.every((entity) => entity.startsWith('SANDBOX'));
}

function cycleRange(
  calls: readonly MeteredCall[],
  cycles: number,
  units: (call: MeteredCall) => Units,
): [number, number] | undefined {
  const totals: number[] = [];
  for (let cycle = 0; cycle < cycles; cycle++) {
    const total = sumUnits(calls.filter((call) => call.write && call.cycle === cycle).map(units));
    if (total === undefined) return undefined;
    totals.push(total);
  }
  return totals.length ? [Math.min(...totals), Math.max(...totals)] : undefined;
}

function perCycleSum(calls: readonly MeteredCall[], cycles: number, units: (call: MeteredCall) => Units): Units {
  const total = sumUnits(calls.map(units));
  return total === undefined ? undefined : total / cycles;
}

function sumUnits(values: readonly Units[]): Units {
  let total = 0;
  for (const value of values) {
    if (value === undefined) return undefined;
    total += value;
  }
  return total;
}

function price(unitsPerCycle: Units, perMillion: number): Units {
  return unitsPerCycle === undefined ? undefined : unitsPerCycle * perMillion;
}
