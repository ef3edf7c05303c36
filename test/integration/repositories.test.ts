import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { expiryPartitions, keys } from '#adapters/dynamo/keys.ts';
import { type IdempotencyClaim, StaleStateError } from '#app/ports.ts';
import type { Payment } from '#domain/payment.ts';
import { applyMovement, emptyWallet, movements, type WalletChange } from '#domain/wallet.ts';
import { newId } from '#shared/ids.ts';
import { paymentFixture } from '../support/domain-fixtures.ts';
import { testContainer, uniqueId } from '../support/fixtures.ts';

const container = testContainer();

/** Creates a payment the way createPayment does: payment + order guard (+ idempotency claim) in one commit. */
async function create(payment: Payment, idempotency?: IdempotencyClaim): Promise<boolean> {
  try {
    await container.store.commit({
      payments: [{ payment, expectedVersion: 0 }],
      claims: [
        {
          kind: 'order',
          merchantId: payment.merchantId,
          value: payment.orderNo,
          resourceId: payment.id,
          requestHash: payment.requestHash,
        },
      ],
      idempotency,
    });
    return true;
  } catch (error) {
    if (error instanceof StaleStateError) return false;
    throw error;
  }
}

/** Commits a payment transition with optional wallet changes. */
function transition(payment: Payment, expectedVersion: number, walletChanges: WalletChange[] = []) {
  return container.store.commit({ payments: [{ payment, expectedVersion }], walletChanges });
}

function draftPayment(overrides: Partial<Payment> = {}): Payment {
  return paymentFixture({
    merchantId: uniqueId('mch'),
    orderNo: uniqueId('ORD'),
    amountMinor: 1000,
    subject: 'test',
    requestHash: 'h1',
    ...overrides,
  });
}

describe('DynamoTransactionStore and DynamoPaymentRepository', () => {
  it('creates a payment once per (merchant, order_no)', async () => {
    const first = draftPayment();
    expect(await create(first)).toBe(true);
    const second = draftPayment({ merchantId: first.merchantId, orderNo: first.orderNo });
    expect(await create(second)).toBe(false);
    expect(await container.payments.get(second.id)).toBeUndefined();
    expect(await container.payments.findByOrderNo(first.merchantId, first.orderNo)).toEqual({
      resourceId: first.id,
      requestHash: 'h1',
    });
  });

  it('writes nothing of a create whose idempotency key is taken', async () => {
    const first = draftPayment();
    const claim = { merchantId: first.merchantId, key: uniqueId('key'), requestHash: 'h1', resourceId: first.id };
    await create(first, claim);
    const second = draftPayment({ merchantId: first.merchantId });
    expect(await create(second, { ...claim, resourceId: second.id })).toBe(false);
    expect(await container.payments.findByOrderNo(second.merchantId, second.orderNo)).toBeUndefined();
    expect(await container.idempotency.find(first.merchantId, claim.key)).toEqual({
      requestHash: 'h1',
      resourceId: first.id,
    });
  });

  it('refuses a transition from a stale version and changes nothing with it', async () => {
    const payment = draftPayment({ accountId: uniqueId('acct') });
    await create(payment);
    const at = new Date().toISOString();
    const wallet = emptyWallet(payment.merchantId, payment.accountId ?? '', 'CNY');
    const change = applyMovement(wallet, movements.credit(1000, payment.id), newId('led'), at);
    const succeeded: Payment = { ...payment, status: 'SUCCEEDED', version: 2, updatedAt: at };
    await transition(succeeded, 1, [change]);

    // A second writer that read version 1 loses, and its wallet credit is not applied either.
    const change2 = applyMovement(change.wallet, movements.credit(1000, payment.id), newId('led'), at);
    await expect(transition(succeeded, 1, [change2])).rejects.toBeInstanceOf(StaleStateError);
    const stored = await container.wallets.get(payment.merchantId, payment.accountId ?? '', 'CNY');
    expect(stored.availableMinor).toBe(1000);
    expect(stored.version).toBe(1);
  });

  it('refuses a wallet write from a stale wallet version', async () => {
    const payment = draftPayment({ accountId: uniqueId('acct') });
    await create(payment);
    const at = new Date().toISOString();
    const staleWallet = emptyWallet(payment.merchantId, payment.accountId ?? '', 'CNY');
    await transition({ ...payment, version: 2 }, 1, [
      applyMovement(staleWallet, movements.credit(500, payment.id), newId('led'), at),
    ]);
    await expect(
      transition({ ...payment, version: 3 }, 2, [
        applyMovement(staleWallet, movements.credit(500, payment.id), newId('led'), at),
      ]),
    ).rejects.toBeInstanceOf(StaleStateError);
    expect((await container.payments.get(payment.id))?.version).toBe(2);
  });

  it('keeps only PENDING payments in the sparse expiry index', async () => {
    const payment = draftPayment();
    await create(payment);
    const read = async () =>
      (
        await container.db.send(
          new GetCommand({ TableName: container.config.tableName, Key: keys.payment(payment.id) }),
        )
      ).Item;
    expect(expiryPartitions(payment.expiresAt.slice(0, 16))).toContain((await read())?.GSI3PK);
    await transition({ ...payment, status: 'CLOSED', version: 2 }, 1);
    expect((await read())?.GSI3PK).toBeUndefined();
  });
});

describe('DynamoNonceStore', () => {
  it('accepts a nonce once and again only after it expired', async () => {
    const merchant = uniqueId('mch');
    const now = new Date();
    const expires = new Date(now.getTime() + 600_000);
    expect(await container.nonces.claim(merchant, 'nonce-aaaaaaaaaaaaaaaa', expires, now)).toBe(true);
    expect(await container.nonces.claim(merchant, 'nonce-aaaaaaaaaaaaaaaa', expires, now)).toBe(false);
    expect(await container.nonces.claim(uniqueId('mch'), 'nonce-aaaaaaaaaaaaaaaa', expires, now)).toBe(true);
    const later = new Date(now.getTime() + 601_000);
    expect(
      await container.nonces.claim(merchant, 'nonce-aaaaaaaaaaaaaaaa', new Date(later.getTime() + 600_000), later),
    ).toBe(true);
  });
});
