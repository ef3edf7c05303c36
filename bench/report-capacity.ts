import { type CapacityFigures, ON_DEMAND_PRICES, type StepFigures, type Units } from './capacity-figures.ts';
import { heading, indent, keyValues, num, table } from './format.ts';

/** Section 4: DynamoDB capacity of one recharge-and-full-refund cycle, and its on-demand price. */
export function printCapacitySection(figures: CapacityFigures): void {
  console.log(heading('4. DynamoDB capacity per recharge-and-full-refund cycle (ReturnConsumedCapacity)'));
  console.log(
    `  ${num(figures.cycles)} sequential cycles on one account: POST /v1/payments → payment callback → GET balance → ` +
      'POST /v1/refunds → refund callback → GET /v1/refunds/{id}',
  );
  console.log(
    '  every handler DynamoDB call metered; figures per cycle. WCU (Local) = ConsumedCapacity as DynamoDB Local ' +
      'reports it;\n  WRU (per item) = DynamoDB per-item rule: a transaction = 2 × the standard units of each item ' +
      '(each re-measured alone,\n  against its previous version, in a scratch table), any other write = its ' +
      'reported units\n',
  );
  console.log(indent(stepTable(figures)));
  console.log(`\n  by call (per cycle):\n`);
  console.log(indent(callTable(figures)));
  console.log();
  console.log(keyValues(summary(figures)));
  for (const line of notes(figures)) console.log(`  ${line}`);
}

function stepTable(figures: CapacityFigures): string {
  const row = (step: StepFigures) => [
    step.label,
    num(step.writeCalls, 2),
    units(step.reportedWcu),
    units(step.perItemWru),
    num(step.readCalls, 2),
    units(step.rcu),
  ];
  const columns = [
    { header: 'step' },
    { header: 'writes', align: 'right' },
    { header: 'WCU (Local)', align: 'right' },
    { header: 'WRU (per item)', align: 'right' },
    { header: 'reads', align: 'right' },
    { header: 'RCU', align: 'right' },
  ] as const;
  const sandbox = { ...figures.sandbox, label: `(not counted) ${figures.sandbox.label}` };
  return table(columns, [...figures.steps.map(row), row(figures.total), row(sandbox)]);
}

function callTable(figures: CapacityFigures): string {
  const rows = figures.rows.map((row) => [
    row.step,
    row.call,
    num(row.calls, 2),
    num(row.items, 2),
    row.write ? units(row.reported) : '',
    row.write ? units(row.perItemRule) : '',
    row.write ? '' : units(row.reported),
  ]);
  const columns = [
    { header: 'step' },
    { header: 'call' },
    { header: 'calls', align: 'right' },
    { header: 'items', align: 'right' },
    { header: 'WCU (Local)', align: 'right' },
    { header: 'WRU (per item)', align: 'right' },
    { header: 'RCU', align: 'right' },
  ] as const;
  return table(columns, rows);
}

function summary(figures: CapacityFigures): [string, string][] {
  const cost = figures.costPerMillionCycles;
  const range = (value: [number, number] | undefined) =>
    value ? ` (single cycles: ${units(value[0])} – ${units(value[1])})` : '';
  return [
    ['WCU per cycle, DynamoDB Local', `${units(figures.total.reportedWcu)}${range(figures.reportedRange)}`],
    ['WRU per cycle, per-item rule', `${units(figures.total.perItemWru)}${range(figures.perItemRange)}`],
    [
      '  of which index writes',
      `${units(figures.indexWru)} (transactional 2× assumed for index writes too; if AWS bills them once, ` +
        `the cycle takes ${units(minus(figures.total.perItemWru, half(figures.indexWru)))})`,
    ],
    [
      '  of which auth nonces',
      `${units(figures.nonces.perItemWru)} (${num(figures.nonces.writeCalls, 2)} signed merchant requests)`,
    ],
    ['RCU per cycle', `${units(figures.total.rcu)} (${num(figures.total.readCalls, 2)} reads)`],
    [
      'on-demand $ per 1M cycles',
      `writes ${dollars(cost.writesPerItem)} (per-item rule) / ${dollars(cost.writesReported)} (Local's figure), ` +
        `reads ${dollars(cost.reads)}`,
    ],
    [
      '  prices (us-east-1)',
      `$${ON_DEMAND_PRICES.writePerMillion} per million write request units, ` +
        `$${ON_DEMAND_PRICES.readPerMillion} per million read request units`,
    ],
  ];
}

function notes(figures: CapacityFigures): string[] {
  const lines: string[] = [];
  const tx = figures.transactions;
  if (tx.reported !== undefined && tx.perItemRule !== undefined && tx.reported !== tx.perItemRule) {
    lines.push(
      `note: for the ${num(tx.calls, 2)} TransactWriteItems (${num(tx.items, 2)} items) of a cycle DynamoDB Local ` +
        `reports ${units(tx.reported)} WCU,`,
      `      the per-item rule gives ${units(tx.perItemRule)}: DynamoDB Local's transactional ConsumedCapacity does ` +
        'not follow',
      "      DynamoDB's documented per-item rule (its single-item figures do), so the per-item figure is the one " +
        'to price;',
      '      every other write and every read is priced as DynamoDB Local reported it.',
    );
  }
  if (figures.missing > 0) {
    lines.push(`note: ${figures.missing} calls came back without ConsumedCapacity: their figures are n/a.`);
  }
  if (figures.failed > 0) lines.push(`note: ${figures.failed} metered calls failed: the figures they touch are n/a.`);
  for (const error of figures.perItemErrors) lines.push(`note: per-item figure unavailable: ${error}`);
  return lines;
}

function minus(a: Units, b: Units): Units {
  return a === undefined || b === undefined ? undefined : a - b;
}

function half(value: Units): Units {
  return value === undefined ? undefined : value / 2;
}

function units(value: Units): string {
  return value === undefined ? 'n/a' : num(value, 2);
}

function dollars(value: Units): string {
  return value === undefined ? 'n/a' : `$${num(value, 2)}`;
}
