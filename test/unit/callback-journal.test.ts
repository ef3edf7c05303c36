import { describe, expect, it } from 'vitest';
import { journalCallback, type ReceivedCallback } from '#app/callback-journal.ts';
import type { ChannelJournal, RefundRepository } from '#app/ports.ts';
import type { JournalEntry } from '#domain/channel-journal.ts';

/** A journal that keeps its entries, and a refund repository that counts its reads. */
function deps() {
  const entries: JournalEntry[] = [];
  const reads: string[] = [];
  const journal = { record: (entry: JournalEntry) => entries.push(entry) } as unknown as ChannelJournal;
  const refunds = {
    get: async (id: string) => {
      reads.push(id);
      return id === 'ref_known' ? { id, paymentId: 'pay_stored' } : undefined;
    },
  } as unknown as RefundRepository;
  return { entries, reads, deps: { journal, refunds, newId: () => 'jnl_1' } };
}

const refundCallback = (refundId: string): ReceivedCallback => ({
  channel: 'SANDBOX',
  headers: {},
  body: '{}',
  at: '2026-12-02T00:00:00.000Z',
  latencyMs: 3,
  callback: { kind: 'refund', result: { refundId, status: 'SUCCEEDED' } },
  answerStatus: 200,
  answerBody: '{}',
});

describe('journalCallback: a refund callback is filed under its payment', () => {
  it('takes the payment its refund named when applying it, reading the refund no second time', async () => {
    const { entries, reads, deps: d } = deps();
    await journalCallback(d, { ...refundCallback('ref_known'), refundPaymentId: 'pay_applied' });
    expect(reads).toEqual([]);
    expect(entries).toMatchObject([{ paymentId: 'pay_applied', refundId: 'ref_known', operation: 'callback' }]);
  });

  it('reads the refund when applying did not (e.g. it failed before): filed under the stored payment', async () => {
    const { entries, reads, deps: d } = deps();
    await journalCallback(d, { ...refundCallback('ref_known'), error: new Error('boom') });
    expect(reads).toEqual(['ref_known']);
    expect(entries).toMatchObject([{ paymentId: 'pay_stored', refundId: 'ref_known', outcome: 'ERROR' }]);
  });

  it('files nothing for a refund it cannot find (an id a channel names proves nothing)', async () => {
    const { entries, deps: d } = deps();
    await journalCallback(d, refundCallback('ref_unknown'));
    expect(entries).toEqual([]);
  });
});
