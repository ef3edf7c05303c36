import * as z from 'zod';
import { queryIntegerSchema, supportedCurrencySchema } from './validation.ts';

/**
 * Query strings of the read routes, in one place so the handlers validate with them and the OpenAPI document describes
 * them (the listings' are in `listings.ts`, the reconciliation's in `reconciliation-report.ts`).
 */
export const balanceQuerySchema = z.strictObject({ currency: supportedCurrencySchema.default('CNY') });

export const ledgerQuerySchema = z.strictObject({
  currency: supportedCurrencySchema.default('CNY'),
  limit: queryIntegerSchema(1, 100).default(50),
  /**
   * Opaque to merchants: per sub-ledger, the sequence number the next page continues below, joined by `.` (an
   * ordinary wallet has one sub-ledger, so its cursor is one number).
   */
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,11}(\.[1-9][0-9]{0,11}){0,39}$/, 'cursor is invalid')
    .transform((cursor) => cursor.split('.').map(Number))
    .optional(),
});

/** `GET /v1/events/{id}`: a page of the event's attempts. */
export const eventAttemptsQuerySchema = z.strictObject({
  limit: queryIntegerSchema(1, 100).optional(),
  cursor: z.string().max(1024).optional(),
});
