/**
 * Section 14: payment creation with the risk engine on and off, in the same run, on a DynamoDB Local started for it.
 * The use case runs in process (no HTTP), 16 concurrent clients, sandbox channel, 64 payers; the engine has a payer
 * day limit, a merchant day limit and payer/device/IP velocity configured, so its read and its writes are all there.
 * DynamoDB units are what DynamoDB Local reports per call (`ReturnConsumedCapacity: TOTAL`), summed per creation.
 */
import { randomBytes } from 'node:crypto';
import { type ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '../local/dynamodb-local.ts';
import { createGatewayTable } from '../local/tables.ts';
import { runPool, summarize } from './flows.ts';
import { heading, indent, ms, num, table } from './report.ts';

const PAYMENTS = 400;
const CONCURRENCY = 16;
const PAYERS = 64;

type Units = { read: number; write: number };

/** Adds every call's consumed capacity to `units` (asks DynamoDB for it on every call). */
function meter(client: Pick<DynamoDBDocumentClient, 'middlewareStack'>, units: Units): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        const split = c.ReadCapacityUnits !== undefined || c.WriteCapacityUnits !== undefined;
        units.read += c.ReadCapacityUnits ?? 0;
        units.write += split ? (c.WriteCapacityUnits ?? 0) : (c.CapacityUnits ?? 0);
      }
      return result;
    },
    { step: 'initialize', name: 'benchRiskCapacity' },
  );
}

async function measureMode(riskOn: boolean, tableName: string) {
  const { createContainer } = await import('#adapters/container.ts');
  const { createMerchant } = await import('#app/merchant-admin.ts');
  const { createPayment } = await import('#app/create-payment.ts');
  const { createPaymentSchema } = await import('#app/payment-schemas.ts');
  const { setRiskConfig } = await import('#app/risk-admin.ts');
  const { parseInput } = await import('#app/validation.ts');
  const { loadConfig } = await import('#shared/config.ts');
  const container = createContainer({ ...loadConfig(), tableName, riskEnabled: riskOn });
  const merchantId = `mch_risk_${riskOn ? 'on' : 'off'}`;
  const { merchant } = await createMerchant(container, { id: merchantId, name: 'Risk bench', mode: 'test' });
  await setRiskConfig(
    container,
    {
      limits: { CNY: { payer_day: '1000000.00', merchant_day: '100000000.00' } },
      velocity: {
        payer: { max: 1000, window_seconds: 600 },
        device: { max: 1000, window_seconds: 600 },
        ip: { max: 100000, window_seconds: 60 },
      },
    },
    merchantId,
  );
  const schema = createPaymentSchema({ allowLoopbackHttp: true });
  const units: Units = { read: 0, write: 0 };
  meter(container.db, units);
  const latencies: number[] = [];
  let index = 0;
  const started = performance.now();
  await runPool(PAYMENTS, CONCURRENCY, async () => {
    const i = index++;
    const body = parseInput(schema, {
      order_no: `risk-${riskOn ? 'on' : 'off'}-${i}`,
      amount: '10.00',
      subject: 'risk bench',
      channel: 'SANDBOX',
      account_id: `payer-${i % PAYERS}`,
      device_id: `device-${i % PAYERS}`,
      payer_ip: `198.51.100.${i % PAYERS}`,
    });
    const t0 = performance.now();
    await createPayment(container, merchant, body);
    latencies.push(performance.now() - t0);
  });
  const elapsedMs = performance.now() - started;
  container.db.destroy();
  return {
    risk: riskOn,
    payments: PAYMENTS,
    per_second: (PAYMENTS * 1000) / elapsedMs,
    latency_ms: summarize(latencies),
    read_units_per_creation: units.read / PAYMENTS,
    write_units_per_creation: units.write / PAYMENTS,
  };
}

/** Runs off then on (same table, same DynamoDB Local), prints the comparison and returns BENCH_RESULT `risk`. */
export async function measureRisk() {
  const dynamo = await startDynamoDbLocal();
  const saved = { ...process.env };
  try {
    const tableName = `bench-risk-${Date.now()}`;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      TABLE_NAME: tableName,
      PUBLIC_BASE_URL: 'http://127.0.0.1:1',
      SANDBOX_ENABLED: 'true',
      SANDBOX_SECRET: randomBytes(16).toString('hex'),
      LOCAL_MASTER_KEY: randomBytes(32).toString('base64'),
    });
    const admin = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1' });
    await createGatewayTable(admin, tableName);
    admin.destroy();
    const off = await measureMode(false, tableName);
    const on = await measureMode(true, tableName);
    console.log(heading('14. Risk engine: payment creation on vs off'));
    const row = (r: typeof off) => [
      r.risk ? 'on' : 'off',
      num(r.per_second, 1),
      ms(r.latency_ms.p50),
      ms(r.latency_ms.p95),
      num(r.read_units_per_creation, 2),
      num(r.write_units_per_creation, 2),
    ];
    console.log(
      indent(
        table(
          ['risk', 'creations/s', 'p50', 'p95', 'read units / creation', 'write units / creation'],
          [row(off), row(on)],
        ),
      ),
    );
    console.log(
      indent(
        `${PAYMENTS} creations per mode, ${CONCURRENCY} concurrent, use case in process on DynamoDB Local (units as it reports them).`,
      ),
    );
    return { off, on };
  } finally {
    process.env = saved;
    await dynamo.stop();
  }
}
