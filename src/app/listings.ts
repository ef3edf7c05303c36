import { EVENT_TYPES } from '#domain/events.ts';
import type { Merchant } from '#domain/merchant.ts';
import { DELIVERY_STATUSES, type StoredEvent } from '#domain/notification.ts';
import { CHANNELS, PAYMENT_STATUSES, type Payment } from '#domain/payment.ts';
import { REFUND_STATUSES, type Refund } from '#domain/refund.ts';
import * as z from '#shared/zod.ts';
import type { EventRepository, ListPage, PaymentRepository, RefundRepository } from './ports.ts';
import { accountIdSchema, queryIntegerSchema } from './validation.ts';

/** An ISO 8601 timestamp in a query (`2026-12-01T00:00:00Z`, an offset allowed), normalised to UTC with milliseconds. */
const timestampQuerySchema = z
  .pipe(
    z.iso.datetime({ offset: true }),
    z.transform((value) => new Date(value).toISOString()),
  )
  .check(z.meta({ description: 'ISO 8601 timestamp, e.g. 2026-12-01T00:00:00.000Z' }));

/** `limit` and `cursor`, common to every listing. */
const pageFields = {
  limit: z._default(queryIntegerSchema(1, 100), 50).check(z.meta({ description: 'Page size, 1–100 (default 50).' })),
  cursor: z
    .optional(z.string().check(z.maxLength(512)))
    .check(z.meta({ description: 'Opaque: the `next_cursor` of the previous page, with the same filters.' })),
};

/** `GET /v1/payments` without `order_no`: filters and page. */
export const paymentListQuerySchema = z
  .strictObject({
    ...pageFields,
    status: z.optional(z.enum(PAYMENT_STATUSES)),
    channel: z.optional(z.enum(CHANNELS)),
    account_id: z.optional(accountIdSchema),
    risk_decision: z
      .optional(z.enum(['ALLOW', 'REVIEW']))
      .check(z.meta({ description: 'The risk decision: REVIEW lists the payments held for review (decided or not).' })),
    created_gte: z.optional(timestampQuerySchema).check(z.meta({ description: 'Created at or after (inclusive).' })),
    created_lt: z.optional(timestampQuerySchema).check(z.meta({ description: 'Created before (exclusive).' })),
  })
  .check(
    z.refine((query) => !query.created_gte || !query.created_lt || query.created_gte < query.created_lt, {
      message: 'created_gte must be before created_lt',
      path: ['created_gte'],
    }),
  );

/** `GET /v1/refunds`: filters and page. */
export const refundListQuerySchema = z.strictObject({
  ...pageFields,
  payment_id: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
  status: z.optional(z.enum(REFUND_STATUSES)),
});

/** `GET /v1/events`: filters and page. */
export const eventListQuerySchema = z.strictObject({
  ...pageFields,
  type: z.optional(z.enum(EVENT_TYPES)),
  delivery_status: z.optional(z.enum(DELIVERY_STATUSES)),
});

/** A page of the merchant's own payments, newest first; `status` filters by the status the merchant sees. */
export function listPayments(
  deps: { payments: PaymentRepository; clock: () => Date },
  merchant: Merchant,
  query: z.output<typeof paymentListQuerySchema>,
): Promise<ListPage<Payment>> {
  return deps.payments.list(
    merchant,
    { limit: query.limit, cursor: query.cursor, createdGte: query.created_gte, createdLt: query.created_lt },
    {
      status: query.status,
      channel: query.channel,
      accountId: query.account_id,
      riskDecision: query.risk_decision,
      now: deps.clock(),
    },
  );
}

/**
 * A page of the merchant's own refunds, newest first.
 *
 * 1. With `payment_id`: the payment must be the merchant's (otherwise the page is empty, like for an unknown id), and
 *    its refunds were all created after it, so the index read starts at its creation time.
 * 2. The index query of the merchant's refunds, filtered.
 */
export async function listRefunds(
  deps: { payments: PaymentRepository; refunds: RefundRepository },
  merchant: Merchant,
  query: z.output<typeof refundListQuerySchema>,
): Promise<ListPage<Refund>> {
  let createdGte: string | undefined;
  if (query.payment_id !== undefined) {
    const payment = await deps.payments.get(query.payment_id);
    if (!payment || payment.merchantId !== merchant.id) return { items: [] };
    createdGte = payment.createdAt;
  }
  return deps.refunds.list(
    merchant,
    { limit: query.limit, cursor: query.cursor, createdGte },
    { paymentId: query.payment_id, status: query.status },
  );
}

/** A page of the merchant's own events (without their attempts), newest first. */
export function listEvents(
  deps: { events: EventRepository },
  merchant: Merchant,
  query: z.output<typeof eventListQuerySchema>,
): Promise<ListPage<StoredEvent>> {
  return deps.events.list(
    merchant,
    { limit: query.limit, cursor: query.cursor },
    { type: query.type, deliveryStatus: query.delivery_status },
  );
}
