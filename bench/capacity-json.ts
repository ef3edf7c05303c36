import { type CapacityFigures, ON_DEMAND_PRICES, type StepFigures, type Units } from './capacity-figures.ts';
import { round } from './stats.ts';

/**
 * The capacity section as JSON: units per cycle (null where DynamoDB Local returned no figure), `wcu_dynamodb_local`
 * as DynamoDB Local reports it, `wru_per_item_rule` by DynamoDB's per-item rule, costs in US$ per million cycles.
 */
export function capacityJson(figures: CapacityFigures) {
  const cost = figures.costPerMillionCycles;
  return {
    cycles: figures.cycles,
    cycle: 'POST payment, payment callback, GET balance, POST refund (full), refund callback, GET refund',
    per_cycle: {
      ...stepJson(figures.total),
      wcu_dynamodb_local_range: figures.reportedRange ?? null,
      wru_per_item_rule_range: figures.perItemRange ?? null,
      wru_index_writes: units(figures.indexWru),
      wru_auth_nonces: units(figures.nonces.perItemWru),
    },
    steps: figures.steps.map(stepJson),
    sandbox_channel_record: stepJson(figures.sandbox),
    transactions: {
      calls: figures.transactions.calls,
      items: figures.transactions.items,
      wcu_dynamodb_local: units(figures.transactions.reported),
      wru_per_item_rule: units(figures.transactions.perItemRule),
    },
    calls: figures.rows.map((row) => ({
      step: row.step,
      call: row.call,
      kind: row.write ? 'write' : 'read',
      calls: round(row.calls, 3),
      items: round(row.items, 3),
      [row.write ? 'wcu_dynamodb_local' : 'rcu']: units(row.reported),
      ...(row.write ? { wru_per_item_rule: units(row.perItemRule) } : {}),
    })),
    cost_usd_per_million_cycles: {
      writes_per_item_rule: units(cost.writesPerItem),
      writes_dynamodb_local: units(cost.writesReported),
      reads: units(cost.reads),
    },
    prices_usd_per_million_request_units: {
      write: ON_DEMAND_PRICES.writePerMillion,
      read: ON_DEMAND_PRICES.readPerMillion,
    },
    calls_without_consumed_capacity: figures.missing,
    failed_calls: figures.failed,
    per_item_errors: figures.perItemErrors,
  };
}

function stepJson(step: StepFigures) {
  return {
    step: step.label,
    write_calls: round(step.writeCalls, 3),
    wcu_dynamodb_local: units(step.reportedWcu),
    wru_per_item_rule: units(step.perItemWru),
    read_calls: round(step.readCalls, 3),
    rcu: units(step.rcu),
  };
}

function units(value: Units): number | null {
  return value === undefined ? null : round(value, 3);
}
