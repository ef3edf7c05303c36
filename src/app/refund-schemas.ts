import { z } from 'zod';

/** `POST /v1/refunds` body; the amount is parsed against the payment's currency in the use case. */
export const createRefundSchema = z.strictObject({
  payment_id: z.string().regex(/^pay_[A-Za-z0-9]{1,64}$/, 'payment_id must be a pay_… id'),
  refund_no: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'refund_no: 1-64 of [A-Za-z0-9_-]'),
  // Optional here only so that a missing amount reaches parseAmount and gets AMOUNT_INVALID.
  amount: z.unknown().optional(),
  reason: z.string().min(1).max(256).nullish(),
});

export type CreateRefundBody = z.output<typeof createRefundSchema>;
