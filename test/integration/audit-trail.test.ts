import { describe, expect, it } from 'vitest';
import { DynamoAuditLog } from '#adapters/dynamo/audit-log.ts';
import { applyPaymentResult } from '#app/apply-payment-result.ts';
import { closePayment } from '#app/close-payment.ts';
import { createPayment } from '#app/create-payment.ts';
import { createRefund } from '#app/create-refund.ts';
import { createMerchant, rotateMerchantSecret, setMerchantStatus } from '#app/merchant-admin.ts';
import { replayEvent } from '#app/notifications.ts';
import { createPaymentSchema } from '#app/payment-schemas.ts';
import { withRequestContext } from '#app/request-context.ts';
import { parseInput } from '#app/validation.ts';
import type { AuditRecord } from '#domain/audit.ts';
import { findEventId } from '../support/events.ts';
import { testContainer, uniqueId } from '../support/fixtures.ts';

const container = testContainer();
const log = new DynamoAuditLog(container.db, container.config.tableName);
const schema = createPaymentSchema({ allowLoopbackHttp: false });
const operator = { type: 'operator' as const, id: 'alice@ops' };

async function trailOf(merchantId: string): Promise<AuditRecord[]> {
  return log.list({ since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000), merchantId });
}

describe('the audit trail (DynamoDB Local)', () => {
  it('records each sensitive operation exactly once, with who, what, when and the request — and never a secret', async () => {
    const id = uniqueId('mch');
    const secrets: string[] = [];
    const { merchant, secret } = await withRequestContext({ actor: operator }, () =>
      createMerchant(container, { id, name: 'Audited', notifyUrl: 'https://merchant.example/notify' }),
    );
    secrets.push(secret, merchant.secretCiphertext);
    const rotated = await withRequestContext({ actor: operator }, () => rotateMerchantSecret(container, id, 60));
    secrets.push(rotated.secret, rotated.merchant.secretCiphertext);
    await withRequestContext({ actor: operator }, () => setMerchantStatus(container, id, 'DISABLED'));
    const active = await withRequestContext({ actor: operator }, () => setMerchantStatus(container, id, 'ACTIVE'));

    const body = parseInput(schema, {
      order_no: uniqueId('A'),
      amount: '9.00',
      subject: 'audited',
      channel: 'SANDBOX',
      account_id: uniqueId('acct'),
    });
    const { payment } = await withRequestContext({ requestId: 'req-create-1' }, () =>
      createPayment(container, active, body),
    );
    await createPayment(container, active, body); // an idempotent replay changes nothing, so it records nothing
    const result = { paymentId: payment.id, status: 'SUCCEEDED' as const, amountMinor: 900, currency: 'CNY' };
    await applyPaymentResult(container, { ...result, channelTradeNo: 'sbx_a' }, 'SANDBOX', {
      reconciliationDate: '2026-12-01',
      runId: 'run_20261202T023000000Z_0a1b2c3d',
    });
    const { refund } = await createRefund(container, active, {
      payment_id: payment.id,
      refund_no: uniqueId('R'),
      amount: '2.00',
    });
    const toClose = parseInput(schema, { order_no: uniqueId('C'), amount: '1.00', subject: 'x', channel: 'SANDBOX' });
    const { payment: closable } = await createPayment(container, active, toClose);
    await closePayment(container, active, closable.id);

    const trail = await trailOf(id);
    // Records of one millisecond have no order between them: compare counts, then find each by what it is about.
    const counts = Object.fromEntries(
      [...new Set(trail.map((r) => r.action))].map((a) => [a, trail.filter((r) => r.action === a).length]),
    );
    expect(counts).toEqual({
      'merchant.created': 1,
      'merchant.secret_rotated': 1,
      'merchant.status_changed': 2,
      'payment.created': 2,
      'reconciliation.repaired': 1,
      'refund.created': 1,
      'payment.closed': 1,
    });
    expect(new Set(trail.map((r) => r.id)).size).toBe(trail.length);
    const find = (action: string, resourceId = id) =>
      trail.find((r) => r.action === action && r.resource.id === resourceId);
    for (const action of ['merchant.created', 'merchant.secret_rotated', 'merchant.status_changed']) {
      expect(find(action)?.actor).toEqual(operator);
    }
    expect(find('payment.created', payment.id)).toMatchObject({
      actor: { type: 'merchant', id },
      requestId: 'req-create-1',
      after: { amountMinor: 900, status: 'PENDING' },
    });
    expect(find('reconciliation.repaired', payment.id)).toMatchObject({
      actor: { type: 'system' },
      before: { status: 'PENDING' },
      after: { status: 'SUCCEEDED' },
    });
    expect(find('refund.created', refund.id)).toMatchObject({
      actor: { type: 'merchant', id },
      after: { amountMinor: 200 },
    });
    expect(find('payment.closed', closable.id)).toMatchObject({
      before: { status: 'PENDING' },
      after: { status: 'CLOSED' },
    });
    const rotation = find('merchant.secret_rotated');
    // Rotation shows THAT the secret changed (another fingerprint), never what it is.
    expect(rotation?.before?.fingerprint).not.toBe(rotation?.after?.fingerprint);
    const text = JSON.stringify(trail);
    for (const value of secrets) expect(text).not.toContain(value);
    expect(text).not.toMatch(/secretCiphertext|sk_[0-9a-f]{16}/);
  });

  it('records an accepted event replay, and nothing for a refused one', async () => {
    const id = uniqueId('mch');
    const { merchant } = await createMerchant(container, { id, name: 'Replays' });
    const body = parseInput(schema, { order_no: uniqueId('E'), amount: '1.00', subject: 'x', channel: 'SANDBOX' });
    const { payment } = await createPayment(container, merchant, body);
    await closePayment(container, merchant, payment.id);
    const eventId = String(await findEventId(container, payment.id));
    await expect(replayEvent(container, merchant, eventId)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await container.events.markFailed(eventId, new Date().toISOString());
    await replayEvent(container, merchant, eventId);

    const replays = (await trailOf(id)).filter((r) => r.action === 'event.replayed');
    expect(replays).toHaveLength(1);
    expect(replays[0]).toMatchObject({
      actor: { type: 'merchant', id },
      resource: { type: 'event', id: eventId },
      before: { delivery_status: 'FAILED' },
      after: { delivery_status: 'PENDING', replays_this_hour: 1 },
    });
  });
});
