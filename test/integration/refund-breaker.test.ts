import { describe, expect, it } from 'vitest';
import { createRefund } from '#app/create-refund.ts';
import type { PaymentChannel } from '#app/ports.ts';
import type { Channel, Payment } from '#domain/payment.ts';
import { UnavailableError } from '#shared/errors.ts';
import { newId } from '#shared/ids.ts';
import { InMemoryChannelHealth } from '../support/channel-fakes.ts';
import { newMerchant, testContainer } from '../support/fixtures.ts';

describe('refunds and the circuit breaker', () => {
  it('counts an external channel outage on refund submission toward its health and keeps the refund PROCESSING', async () => {
    const container = testContainer();
    const { merchant } = await newMerchant(container);
    const at = new Date().toISOString();
    const payment: Payment = {
      id: newId('pay'),
      merchantId: merchant.id,
      orderNo: newId('pay').slice(4, 20),
      status: 'SUCCEEDED',
      amountMinor: 1000,
      currency: 'CNY',
      subject: 'paid with Alipay',
      channel: 'ALIPAY',
      method: 'QR',
      metadata: {},
      refundedMinor: 0,
      refundingMinor: 0,
      late: false,
      paidAt: at,
      expiresAt: at,
      createdAt: at,
      updatedAt: at,
      requestHash: 'h',
      version: 1,
    };
    await container.store.commit({ payments: [{ payment, expectedVersion: 0 }] });
    const down = {
      code: 'ALIPAY',
      refund: () => Promise.reject(new UnavailableError('CHANNEL_UNAVAILABLE', 'Alipay unavailable: HTTP 500')),
    } as unknown as PaymentChannel;
    const health = new InMemoryChannelHealth();
    const channels = new Map<Channel, PaymentChannel>([['ALIPAY', down]]);
    const deps = { ...container, channels, router: { ...container.router, channels, health } };

    const { refund } = await createRefund(deps, merchant, { payment_id: payment.id, refund_no: 'R1', amount: '4.00' });

    expect(refund.status).toBe('PROCESSING'); // the money stays reserved; a callback or query settles it later
    expect(health.state('ALIPAY')).toMatchObject({ consecutiveFailures: 1 });
  });
});
