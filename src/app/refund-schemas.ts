import * as z from '#shared/zod.ts';
import { accountIdSchema } from './validation.ts';

/**
 * `POST /v1/refunds` body; the amount is parsed against the payment's currency in the use case. `destination`
 * absent or `null` means `ORIGINAL`; `account_id` (the payer's wallet to credit) is required with `BALANCE` and refused without.
 */
export const createRefundSchema = z
  .strictObject({
    payment_id: z.string().check(z.regex(/^pay_[A-Za-z0-9]{1,64}$/, 'payment_id must be a pay_… id')),
    refund_no: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'refund_no: 1-64 of [A-Za-z0-9_-]')),
    // Optional here only so that a missing amount reaches parseAmount and gets AMOUNT_INVALID.
    amount: z.optional(z.unknown()),
    reason: z.nullish(z.string().check(z.minLength(1), z.maxLength(256))),
    destination: z.nullish(z.enum(['ORIGINAL', 'BALANCE'])),
    account_id: z.nullish(accountIdSchema),
  })
  .check(
    z.superRefine((body, ctx) => {
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
    }),
  );

export type CreateRefundBody = z.output<typeof createRefundSchema>;
