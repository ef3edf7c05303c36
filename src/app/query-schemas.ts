import * as z from '#shared/zod.ts';
import { queryIntegerSchema, supportedCurrencySchema } from './validation.ts';

/**
 * Query strings of the read routes, in one place so the handlers validate with them and the OpenAPI document describes
 * them (the listings' are in `listings.ts`, the reconciliation's in `reconciliation-report.ts`).
 */
export const balanceQuerySchema = z.strictObject({ currency: z._default(supportedCurrencySchema, 'CNY') });

export const ledgerQuerySchema = z.strictObject({
  currency: z._default(supportedCurrencySchema, 'CNY'),
  limit: z._default(queryIntegerSchema(1, 100), 50),
  /**
   * Opaque to merchants: per sub-ledger, the sequence number the next page continues below, joined by `.` (an
   * ordinary wallet has one sub-ledger, so its cursor is one number).
   */
  cursor: z.optional(
    z.pipe(
      z.string().check(z.regex(/^[1-9][0-9]{0,11}(\.[1-9][0-9]{0,11}){0,39}$/, 'cursor is invalid')),
      z.transform((cursor) => cursor.split('.').map(Number)),
    ),
  ),
});

/** `GET /v1/events/{id}`: a page of the event's attempts. */
export const eventAttemptsQuerySchema = z.strictObject({
  limit: z.optional(queryIntegerSchema(1, 100)),
  cursor: z.optional(z.string().check(z.maxLength(1024))),
});
