import { describe, expect, it } from 'vitest';
import { createRefund } from '#app/create-refund.ts';
import type { PaymentChannel } from '#app/ports.ts';
import type { Channel } from '#domain/payment.ts';
import { UnavailableError } from '#shared/errors.ts';
import { InMemoryChannelHealth } from '../support/channel-fakes.ts';
import { paymentFixture } from '../support/domain-fixtures.ts';
import { newMerchant, testContainer } from '../support/fixtures.ts';

describe('refunds and the circuit breaker', () => {
  it('counts an external channel outage on refund submission toward its health and keeps the refund PROCESSING', async () => {
    const container = testContainer();
    const { merchant } = await newMerchant(container);
    const at = new Date().toISOString();
    const payment = paymentFixture({
      merchantId: merchant.id,
      status: 'SUCCEEDED',
      amountMinor: 1000,
      channel: 'ALIPAY',
      refundingMinor: 0,
      paidAt: at,
      expiresAt: at,
    });
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
