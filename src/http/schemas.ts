import { EVENT_TYPES } from '#domain/events.ts';
import { DELIVERY_STATUSES } from '#domain/notification.ts';
import { CHANNELS, PAY_METHODS, PAYMENT_STATUSES } from '#domain/payment.ts';
import { REFUND_STATUSES } from '#domain/refund.ts';
import { RULE_IDS } from '#domain/risk.ts';
import type { LedgerType } from '#domain/wallet.ts';
import * as z from '#shared/zod.ts';
import { ERROR_CODES } from './error-codes.ts';

/**
 * The response objects of the API as zod schemas: the views in `resources.ts` are typed by them (a field added to a
 * view but not here is a type error) and the OpenAPI document describes responses from them.
 */
const amount = z.string().check(z.meta({ description: 'Decimal string in major units, full exponent ("100.00").' }));
const timestamp = z.string().check(z.meta({ description: 'ISO 8601 UTC with milliseconds.', format: 'date-time' }));

export const paymentSchema = z.object({
  id: z.string(),
  object: z.literal('payment'),
  order_no: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  amount,
  currency: z.string(),
  subject: z.string(),
  description: z.nullable(z.string()),
  channel: z.enum(CHANNELS),
  method: z.enum(PAY_METHODS),
  pay_url: z.nullable(z.string()),
  qr_code: z.nullable(z.string()),
  client_params: z.nullable(z.record(z.string(), z.string())),
  account_id: z.nullable(z.string()),
  payer_account_id: z.nullable(z.string()),
  refunded_amount: amount,
  late: z.boolean(),
  notify_url: z.nullable(z.string()),
  return_url: z.nullable(z.string()),
  expires_at: timestamp,
  created_at: timestamp,
  paid_at: z.nullable(timestamp),
  channel_trade_no: z.nullable(z.string()),
  metadata: z.record(z.string(), z.string()),
  risk: z
    .object({
      score: z.number().check(z.int(), z.gte(0), z.lte(100)),
      decision: z.enum(['ALLOW', 'REVIEW']),
      rules: z
        .array(z.enum(RULE_IDS))
        .check(z.meta({ description: 'The ids of the rules that fired (never thresholds).' })),
      review: z.nullable(z.enum(['PENDING', 'APPROVED', 'REJECTED'])).check(
        z.meta({
          description: 'A held (REVIEW) payment: PENDING until an operator approves or rejects it; else null.',
        }),
      ),
    })
    .check(
      z.meta({ description: 'The risk decision. A REVIEW payment cannot be paid until an operator approves it.' }),
    ),
  routing_attempts: z
    .optional(
      z.array(
        z.object({
          channel: z.enum(CHANNELS),
          outcome: z.enum(['OUTAGE', 'CLOSED']),
          reason: z.string(),
          latency_ms: z.number(),
        }),
      ),
    )
    .check(z.meta({ description: 'Present only when routing left a channel before the one that took the payment.' })),
  channel_attempts: z
    .optional(
      z.array(
        z.object({
          at: timestamp,
          operation: z.string(),
          channel: z.string(),
          refund_id: z.nullable(z.string()),
          outcome: z.string(),
          http_status: z.nullable(z.number().check(z.int())),
          latency_ms: z.number(),
          error_code: z.nullable(z.string()),
        }),
      ),
    )
    .check(
      z.meta({ description: 'On `GET /v1/payments/{id}` only: the messages exchanged with the channel (no bodies).' }),
    ),
});

export const refundSchema = z.object({
  id: z.string(),
  object: z.literal('refund'),
  payment_id: z.string(),
  refund_no: z.string(),
  status: z.enum(REFUND_STATUSES),
  amount,
  currency: z.string(),
  reason: z.nullable(z.string()),
  channel: z.enum(CHANNELS),
  destination: z.enum(['ORIGINAL', 'BALANCE']),
  account_id: z.nullable(z.string()),
  channel_refund_no: z.nullable(z.string()),
  created_at: timestamp,
  completed_at: z.nullable(timestamp),
});

export const balanceSchema = z.object({
  object: z.literal('balance'),
  account_id: z.string(),
  currency: z.string(),
  available: amount,
  frozen: amount,
  updated_at: z.nullable(timestamp),
});

const LEDGER_TYPES = [
  'RECHARGE',
  'PAYMENT',
  'REFUND_FREEZE',
  'REFUND_DEDUCT',
  'REFUND_UNFREEZE',
  'REFUND',
] as const satisfies readonly LedgerType[];

export const ledgerEntrySchema = z.object({
  id: z.string(),
  object: z.literal('ledger_entry'),
  type: z.enum(LEDGER_TYPES),
  amount,
  currency: z.string(),
  available_after: amount,
  frozen_after: amount,
  payment_id: z.nullable(z.string()),
  refund_id: z.nullable(z.string()),
  created_at: timestamp,
});

const deliverySummary = z.object({
  status: z.enum(DELIVERY_STATUSES),
  notify_url: z.nullable(z.string()),
  delivered_at: z.nullable(timestamp),
  attempt_count: z.number().check(z.int()),
});

const eventFields = {
  id: z.string(),
  object: z.literal('event'),
  type: z.enum(EVENT_TYPES),
  created_at: timestamp,
  data: z.record(z.string(), z.unknown()).check(z.meta({ description: 'The payment or refund object as notified.' })),
};

/** An event as `GET /v1/events` lists it: delivery state without attempts. */
export const eventSummarySchema = z.object({ ...eventFields, delivery: deliverySummary });

/** An event with a page of its delivery attempts (`GET /v1/events/{id}`, replay). */
export const eventSchema = z.object({
  ...eventFields,
  delivery: z.extend(deliverySummary, {
    attempts: z.array(
      z.object({
        at: timestamp,
        trigger: z.enum(['first', 'retry', 'replay']),
        http_status: z.nullable(z.number().check(z.int())),
        error: z.nullable(z.string()),
        latency_ms: z.number(),
      }),
    ),
    attempts_has_more: z.boolean(),
    attempts_next_cursor: z.nullable(z.string()),
  }),
});

const reconciliationStatus = z.enum(['RUNNING', 'COMPLETED', 'MISSING_BILL']);

/** A channel-day's reconciliation run (`src/app/reconcile.ts` `reconciliationResource`). */
export const reconciliationSchema = z.object({
  object: z.literal('reconciliation'),
  date: z.string(),
  channel: z.string(),
  status: reconciliationStatus,
  summary: z.object({
    matched: z.number().check(z.int()),
    amount_mismatch: z.number().check(z.int()),
    status_mismatch: z.number().check(z.int()),
    local_only: z.number().check(z.int()),
    channel_only: z.number().check(z.int()),
    repaired: z.number().check(z.int()),
    local_total: amount,
    channel_total: amount,
    fee_total: amount,
  }),
  report_url: z.optional(z.string()).check(z.meta({ description: 'Presigned S3 URL of the report, valid 15 min.' })),
  report_urls: z.optional(z.record(z.string(), z.string())).check(
    z.meta({
      description:
        'Presigned URLs (15 min) of the run files: summary.json, differences.csv, settlement.csv (per merchant and ' +
        'currency: payments, gross, refund_count, refunds, channel_fees, merchant_fees, gateway_borne_fees, net).',
    }),
  ),
  run_id: z.string(),
  time_zone: z.string(),
  window: z.object({ from: timestamp, to: timestamp }),
  lines: z.number().check(z.int()),
  errors: z.number().check(z.int()),
  problems: z.array(z.object({ code: z.string(), message: z.string() })),
  repairs: z.array(
    z.object({
      kind: z.enum(['PAYMENT', 'REFUND']),
      gateway_id: z.string(),
      run_id: z.string(),
      repaired_at: timestamp,
      status_before: z.string(),
      status_after: z.string(),
    }),
  ),
  details: z.optional(z.object({ reason: z.enum(['NO_BILL', 'WRONG_BILL', 'NO_ACTIVITY']) })),
  started_at: timestamp,
  completed_at: z.nullable(timestamp),
  runs: z.optional(
    z.array(
      z.object({
        run_id: z.string(),
        status: reconciliationStatus,
        repaired: z.number().check(z.int()),
        started_at: timestamp,
        completed_at: z.nullable(timestamp),
      }),
    ),
  ),
});

/** The contract's list object around items of `item`. */
export function listSchema<T extends z.ZodMiniType>(item: T) {
  return z.object({
    object: z.literal('list'),
    data: z.array(item),
    has_more: z.boolean(),
    next_cursor: z.nullable(z.string()).check(z.meta({ description: 'Opaque; null on the last page.' })),
  });
}

/** The contract's error envelope. */
export const errorSchema = z.object({
  error: z.object({
    code: z
      .enum(Object.keys(ERROR_CODES) as [string, ...string[]])
      .check(z.meta({ description: 'Stable UPPER_SNAKE code (see the response descriptions).' })),
    message: z.string(),
    request_id: z.string(),
    details: z.optional(z.record(z.string(), z.unknown())),
  }),
});

/** What a merchant's notify_url receives (`X-Event-Id`, `X-Signature: t=…,v1=…`). */
export const notificationSchema = z.object({
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  created_at: timestamp,
  data: z.union([paymentSchema, refundSchema]),
});
