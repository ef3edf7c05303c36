import * as z from 'zod';
import { accountIdSchema } from './validation.ts';

/**
 * `POST /v1/refunds` body; the amount is parsed against the payment's currency in the use case. `destination`
 * absent or `null` means `ORIGINAL`; `account_id` (the payer's wallet to credit) is required with `BALANCE` and refused without.
 */
export const createRefundSchema = z
  .strictObject({
    payment_id: z.string().regex(/^pay_[A-Za-z0-9]{1,64}$/, 'payment_id must be a pay_… id'),
    refund_no: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'refund_no: 1-64 of [A-Za-z0-9_-]'),
    // Optional here only so that a missing amount reaches parseAmount and gets AMOUNT_INVALID.
    amount: z.unknown().optional(),
    reason: z.string().min(1).max(256).nullish(),
    destination: z.enum(['ORIGINAL', 'BALANCE']).nullish(),
    account_id: accountIdSchema.nullish(),
  })
  .superRefine((body, ctx) => {
    if (body.destination === 'BALANCE' && !body.account_id) {
      ctx.addIssue({
        code: 'custom',
        message: 'a BALANCE refund needs the account_id to credit',
        path: ['account_id'],
      });
    }
    if (body.destination !== 'BALANCE' && body.account_id) {
      ctx.addIssue({ code: 'custom', message: 'account_id is only for destination BALANCE', path: ['account_id'] });
    }
  });

export type CreateRefundBody = z.output<typeof createRefundSchema>;
