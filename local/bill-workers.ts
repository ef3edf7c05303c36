import { BILLS_BUCKET } from '#domain/buckets.ts';
import { logger } from '#shared/observability.ts';
import { handler as fetchBills } from '../functions/fetch-bills.ts';
import { handler as reconcile } from '../functions/reconcile.ts';
import { invokeLocally } from './lambda-context.ts';
import type { LocalS3 } from './s3.ts';

/** How often the local stack runs the bill schedule: hourly, like the deployed one (`BILL_SCHEDULE_MS` compresses it). */
const DEFAULT_SCHEDULE_MS = 3_600_000;

/**
 * The bill half of `npm start`, driven like the deployed event sources: every object created in the local bills
 * bucket goes to its function as an S3 notification would (`.csv` → Reconcile, `.csv.zip` → FetchBills, which
 * unpacks it), and FetchBills runs on a schedule (hourly, or every `scheduleMs`: the sandbox publishes its bill of
 * the previous business day, Alipay/WeChat Pay bills are downloaded when their profiles are enabled).
 */
export function startBillWorkers(
  s3: LocalS3,
  scheduleMs: number = Number(process.env.BILL_SCHEDULE_MS) || DEFAULT_SCHEDULE_MS,
): { stop(): void } {
  const run = (name: string, work: Promise<unknown>) =>
    work.catch((error: unknown) => logger.error(`local ${name} failed`, { error }));
  s3.onObjectCreated((bucket, key) => {
    if (bucket !== BILLS_BUCKET.localName) return;
    const event = { Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key } } }] };
    if (key.endsWith('.csv')) void run('Reconcile', invokeLocally('Reconcile', reconcile, event));
    if (key.endsWith('.csv.zip')) void run('FetchBills', invokeLocally('FetchBills', fetchBills, event));
  });
  const scheduled = { 'detail-type': 'Scheduled Event' as const };
  const timer = setInterval(
    () => void run('FetchBills', invokeLocally('FetchBills', fetchBills, scheduled)),
    scheduleMs,
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
