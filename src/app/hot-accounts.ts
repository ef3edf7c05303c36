import type { MerchantRepository, WalletRepository } from '#app/ports.ts';
import { MAX_SUB_BALANCES } from '#domain/sub-balances.ts';
import { ConflictError, NotFoundError } from '#shared/errors.ts';
import * as z from '#shared/zod.ts';
import { type AuditDeps, auditRecord } from './audit.ts';
import { untilNotStale } from './stale-retry.ts';
import { accountIdSchema, parseInput, supportedCurrencySchema } from './validation.ts';

export interface HotAccountDeps extends AuditDeps {
  merchants: MerchantRepository;
  wallets: WalletRepository;
}

const hotAccountSchema = z.strictObject({
  merchantId: z.string().check(z.minLength(1)),
  accountId: accountIdSchema,
  currency: supportedCurrencySchema,
  subBalances: z.number().check(z.int(), z.gte(1), z.lte(MAX_SUB_BALANCES)),
});

/**
 * An operator marks an account high-volume: from now on its credits spread over `subBalances` sub-balances
 * (docs/scaling.md). Counts only grow (a sub-balance may hold money, and readers sum the ones the count names), so a
 * smaller count is refused with `409 INVALID_STATE`; the same count changes nothing. Audited.
 */
export async function setHotAccount(
  deps: HotAccountDeps,
  input: { merchantId: string; accountId: string; currency: string; subBalances: number },
): Promise<{ subBalances: number; previous: number }> {
  const { subBalances, ...account } = parseInput(hotAccountSchema, input);
  if (!(await deps.merchants.get(account.merchantId))) {
    throw new NotFoundError(`merchant ${account.merchantId} not found`);
  }
  return untilNotStale(async () => {
    const previous = await deps.wallets.subBalanceCount(account, true);
    if (subBalances < previous) {
      throw new ConflictError('INVALID_STATE', `the account has ${previous} sub-balances; counts only grow`, {
        sub_balances: previous,
      });
    }
    if (subBalances > previous) {
      const audit = auditRecord(deps, {
        action: 'wallet.sub_balances_changed',
        merchantId: account.merchantId,
        resource: { type: 'account', id: `${account.accountId}/${account.currency}` },
        before: { sub_balances: previous },
        after: { sub_balances: subBalances },
      });
      await deps.wallets.setSubBalanceCount(account, subBalances, previous, audit);
    }
    return { subBalances, previous };
  });
}
