import * as z from 'zod';
import { EVENT_TYPES } from '#domain/events.ts';
import { DELIVERY_STATUSES } from '#domain/notification.ts';
import { CHANNELS, PAY_METHODS, PAYMENT_STATUSES } from '#domain/payment.ts';
import { REFUND_STATUSES } from '#domain/refund.ts';
import { RULE_IDS } from '#domain/risk.ts';
import type { LedgerType } from '#domain/wallet.ts';
import { ERROR_CODES } from './error-codes.ts';

/**
 * The response objects of the API as zod schemas: the views in `resources.ts` are typed by them (a field added to a
 * view but not here is a type error) and the OpenAPI document describes responses from them.
 */
const amount = z.string().meta({ description: 'Decimal string in major units, full exponent ("100.00").' });
const timestamp = z.string().meta({ description: 'ISO 8601 UTC with milliseconds.', format: 'date-time' });

export const paymentSchema = z.object({
  id: z.string(),
  object: z.literal('payment'),
  order_no: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  amount,
  currency: z.string(),
  subject: z.string(),
  description: z.string().nullable(),
  channel: z.enum(CHANNELS),
  method: z.enum(PAY_METHODS),
  pay_url: z.string().nullable(),
  qr_code: z.string().nullable(),
  client_params: z.record(z.string(), z.string()).nullable(),
  account_id: z.string().nullable(),
  payer_account_id: z.string().nullable(),
  refunded_amount: amount,
  late: z.boolean(),
  notify_url: z.string().nullable(),
  return_url: z.string().nullable(),
  expires_at: timestamp,
  created_at: timestamp,
  paid_at: timestamp.nullable(),
  channel_trade_no: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  risk: z
    .object({
      score: z.number().int().min(0).max(100),
      decision: z.enum(['ALLOW', 'REVIEW']),
      rules: z.array(z.enum(RULE_IDS)).meta({ description: 'The ids of the rules that fired (never thresholds).' }),
      review: z
        .enum(['PENDING', 'APPROVED', 'REJECTED'])
        .nullable()
        .meta({ description: 'A held (REVIEW) payment: PENDING until an operator approves or rejects it; else null.' }),
    })
    .meta({ description: 'The risk decision. A REVIEW payment cannot be paid until an operator approves it.' }),
  routing_attempts: z
    .array(
      z.object({
        channel: z.enum(CHANNELS),
        outcome: z.enum(['OUTAGE', 'CLOSED']),
        reason: z.string(),
        latency_ms: z.number(),
      }),
    )
    .optional()
    .meta({ description: 'Present only when routing left a channel before the one that took the payment.' }),
  channel_attempts: z
    .array(
      z.object({
        at: timestamp,
        operation: z.string(),
        channel: z.string(),
        refund_id: z.string().nullable(),
        outcome: z.string(),
        http_status: z.number().int().nullable(),
        latency_ms: z.number(),
        error_code: z.string().nullable(),
      }),
    )
    .optional()
    .meta({ description: 'On `GET /v1/payments/{id}` only: the messages exchanged with the channel (no bodies).' }),
});

export const refundSchema = z.object({
  id: z.string(),
  object: z.literal('refund'),
  payment_id: z.string(),
  refund_no: z.string(),
  status: z.enum(REFUND_STATUSES),
  amount,
  currency: z.string(),
  reason: z.string().nullable(),
  channel: z.enum(CHANNELS),
  destination: z.enum(['ORIGINAL', 'BALANCE']),
  account_id: z.string().nullable(),
  channel_refund_no: z.string().nullable(),
  created_at: timestamp,
  completed_at: timestamp.nullable(),
});

export const balanceSchema = z.object({
  object: z.literal('balance'),
  account_id: z.string(),
  currency: z.string(),
  available: amount,
  frozen: amount,
  updated_at: timestamp.nullable(),
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
  payment_id: z.string().nullable(),
  refund_id: z.string().nullable(),
  created_at: timestamp,
});

const deliverySummary = z.object({
  status: z.enum(DELIVERY_STATUSES),
  notify_url: z.string().nullable(),
  delivered_at: timestamp.nullable(),
  attempt_count: z.number().int(),
});

const eventFields = {
  id: z.string(),
  object: z.literal('event'),
  type: z.enum(EVENT_TYPES),
  created_at: timestamp,
  data: z.record(z.string(), z.unknown()).meta({ description: 'The payment or refund object as notified.' }),
};

/** An event as `GET /v1/events` lists it: delivery state without attempts. */
export const eventSummarySchema = z.object({ ...eventFields, delivery: deliverySummary });

/** An event with a page of its delivery attempts (`GET /v1/events/{id}`, replay). */
export const eventSchema = z.object({
  ...eventFields,
  delivery: deliverySummary.extend({
    attempts: z.array(
      z.object({
        at: timestamp,
        trigger: z.enum(['first', 'retry', 'replay']),
        http_status: z.number().int().nullable(),
        error: z.string().nullable(),
        latency_ms: z.number(),
      }),
    ),
    attempts_has_more: z.boolean(),
    attempts_next_cursor: z.string().nullable(),
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
    matched: z.number().int(),
    amount_mismatch: z.number().int(),
    status_mismatch: z.number().int(),
    local_only: z.number().int(),
    channel_only: z.number().int(),
    repaired: z.number().int(),
    local_total: amount,
    channel_total: amount,
    fee_total: amount,
  }),
  report_url: z.string().optional().meta({ description: 'Presigned S3 URL of the report, valid 15 min.' }),
  report_urls: z
    .record(z.string(), z.string())
    .optional()
    .meta({
      description:
        'Presigned URLs (15 min) of the run files: summary.json, differences.csv, settlement.csv (per merchant and ' +
        'currency: payments, gross, refund_count, refunds, channel_fees, merchant_fees, gateway_borne_fees, net).',
    }),
  run_id: z.string(),
  time_zone: z.string(),
  window: z.object({ from: timestamp, to: timestamp }),
  lines: z.number().int(),
  errors: z.number().int(),
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
  details: z.object({ reason: z.enum(['NO_BILL', 'WRONG_BILL', 'NO_ACTIVITY']) }).optional(),
  started_at: timestamp,
  completed_at: timestamp.nullable(),
  runs: z
    .array(
      z.object({
        run_id: z.string(),
        status: reconciliationStatus,
        repaired: z.number().int(),
        started_at: timestamp,
        completed_at: timestamp.nullable(),
      }),
    )
    .optional(),
});

/** The contract's list object around items of `item`. */
export function listSchema<T extends z.ZodType>(item: T) {
  return z.object({
    object: z.literal('list'),
    data: z.array(item),
    has_more: z.boolean(),
    next_cursor: z.string().nullable().meta({ description: 'Opaque; null on the last page.' }),
  });
}

/** The contract's error envelope. */
export const errorSchema = z.object({
  error: z.object({
    code: z
      .enum(Object.keys(ERROR_CODES) as [string, ...string[]])
      .meta({ description: 'Stable UPPER_SNAKE code (see the response descriptions).' }),
    message: z.string(),
    request_id: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** What a merchant's notify_url receives (`X-Event-Id`, `X-Signature: t=…,v1=…`). */
export const notificationSchema = z.object({
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  created_at: timestamp,
  data: z.union([paymentSchema, refundSchema]),
});
