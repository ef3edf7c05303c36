import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { FilterCriteria, FilterRule, type IEventSource, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { EventType } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { RELAY_RETRY_ATTEMPTS } from '#adapters/queue-definitions.ts';
import { BILLS_BUCKET } from '#domain/buckets.ts';
import { WORKERS, type WorkerSpec } from '#routes';
import { type FunctionContext, gatewayFunctionFor } from './function-access.ts';
import type { GatewayData } from './gateway-data.ts';
import type { GatewayFunction } from './gateway-function.ts';

/** Stream records per outbox relay invocation; its records are processed in parallel. */
const RELAY_BATCH_SIZE = 100;
/** Messages per notify invocation (SQS's maximum for a standard queue without a batching window). */
const NOTIFY_BATCH_SIZE = 10;
/** Concurrent notify invocations: at most 200 deliveries in flight, so a burst of events cannot flood merchants. */
const NOTIFY_MAX_CONCURRENCY = 20;

/** Properties of {@link GatewayWorkers}. */
export interface GatewayWorkersProps {
  /** How the functions are built; includes the workflows they start. */
  readonly context: FunctionContext;
}

/**
 * The event-driven workers that are not state machine tasks: the outbox relay behind the table stream and the
 * notifier behind the notify queue (`WORKERS` with a `table-stream` or `notify-queue` trigger), which both report
 * partial batch failures, so one bad record is retried alone; and the reconciler (`schedule`), run daily by an
 * EventBridge rule and for every bill that lands in the bills bucket.
 */
export class GatewayWorkers extends Construct {
  /** The functions, by `WorkerSpec.id`. */
  readonly functions: ReadonlyMap<string, GatewayFunction>;
  /** The EventBridge schedules of the `schedule` workers, by `WorkerSpec.id`. */
  readonly schedules: ReadonlyMap<string, Rule>;

  constructor(scope: Construct, id: string, props: GatewayWorkersProps) {
    super(scope, id);
    const functions = new Map<string, GatewayFunction>();
    const schedules = new Map<string, Rule>();
    for (const spec of WORKERS) {
      if (spec.trigger.kind === 'schedule') {
        const fn = gatewayFunctionFor(this, spec, props.context);
        schedules.set(spec.id, scheduled(this, spec.id, spec.trigger, fn));
        if (spec.trigger.billsCreated) {
          // A bill (`.csv`) is reconciled when it lands, an archive (`.csv.zip`) unpacked. The notification is a CDK
          // custom resource on the bucket: the bucket references nothing of the function's, so the function's bucket
          // grants close no cycle.
          props.context.data.billsBucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(fn), {
            prefix: BILLS_BUCKET.keyPrefix,
            suffix: spec.trigger.billsCreated,
          });
        }
        functions.set(spec.id, fn);
        continue;
      }
      const source = eventSourceOf(spec, props.context.data);
      if (!source) continue;
      const fn = gatewayFunctionFor(this, spec, props.context);
      fn.addEventSource(source);
      functions.set(spec.id, fn);
    }
    this.functions = functions;
    this.schedules = schedules;
  }
}

/**
 * The rule of a `schedule` worker. EventBridge cron expressions are in UTC: `cron(30 2 * * ? *)` is 10:30
 * Asia/Shanghai, after Alipay and WeChat Pay publish the previous day's bills (by ~10:00 Beijing time). Runs are
 * idempotent (a bill already stored is not fetched again; a re-run repairs nothing twice), so the asynchronous
 * invocation's retries are harmless.
 */
function scheduled(
  scope: Construct,
  id: string,
  trigger: Extract<WorkerSpec['trigger'], { kind: 'schedule' }>,
  fn: GatewayFunction,
): Rule {
  return new Rule(scope, `${id}Schedule`, {
    description: `Runs ${id} on schedule (${trigger.cron}, UTC)`,
    schedule: Schedule.expression(trigger.cron),
    targets: [new LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.hours(2) })],
  });
}

/** The event source of a stream or queue worker; none for a state machine task. */
function eventSourceOf(spec: WorkerSpec, data: GatewayData): IEventSource | undefined {
  switch (spec.trigger.kind) {
    case 'table-stream':
      return new DynamoEventSource(data.table, {
        // TRIM_HORIZON, not LATEST: a mapping created (or re-created) after items were written still relays them, so
        // no committed event is skipped. Re-reading records is harmless: a delivered event is not sent again and the
        // expiry timers are named executions.
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: RELAY_BATCH_SIZE,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: RELAY_RETRY_ATTEMPTS,
        onFailure: new SqsDlq(data.relayFailures),
        // Only inserts of outbox events, pending payments, daily-volume reservations and processing refunds, and
        // approvals of held payments, do anything; filtering them here means the relay is not invoked (nor billed)
        // for the ledger, wallet, attempt and status-update records that make up most writes.
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { entity: { S: FilterRule.isEqual('EVENT') } } },
          }),
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: {
              NewImage: { entity: { S: FilterRule.isEqual('PAYMENT') }, status: { S: FilterRule.isEqual('PENDING') } },
            },
          }),
          // A routed payment's daily-volume reservation: its sweep minute's timer, should nothing confirm it.
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { entity: { S: FilterRule.isEqual('VOLUME_RESERVATION') } } },
          }),
          // An operator's approval of a held payment: the write that put it on the status sync's schedule
          // (`approvedIntoFirstAsk`, src/app/outbox-relay.ts) — review APPROVED, a first ask, no asks yet.
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('MODIFY'),
            dynamodb: {
              NewImage: {
                entity: { S: FilterRule.isEqual('PAYMENT') },
                status: { S: FilterRule.isEqual('PENDING') },
                risk: { M: { review: { M: { status: { S: FilterRule.isEqual('APPROVED') } } } } },
                syncAt: { S: FilterRule.exists() },
                syncAttempts: { N: FilterRule.notExists() },
              },
            },
          }),
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: {
              NewImage: {
                entity: { S: FilterRule.isEqual('REFUND') },
                status: { S: FilterRule.isEqual('PROCESSING') },
              },
            },
          }),
        ],
      });
    case 'notify-queue':
      return new SqsEventSource(data.notifyQueue, {
        batchSize: NOTIFY_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: NOTIFY_MAX_CONCURRENCY,
      });
    case 'state-machine-task':
    case 'schedule':
      return undefined;
  }
}
