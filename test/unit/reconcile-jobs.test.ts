import { describe, expect, it } from 'vitest';
import { billJobs, reconcileJobs, triggerOf } from '#app/reconcile-jobs.ts';
import { settlementTimeZones } from '#domain/business-day.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';

const profiles = (enabled: string[]) => ({
  get: async (channel: string) => ({ channel, enabled: enabled.includes(channel) }) as ChannelProfile,
  list: async () => [],
});
const clock = () => new Date('2026-12-01T00:30:00.000Z');
const zones = settlementTimeZones();

describe('reconcile jobs', () => {
  it("reconciles each channel's previous business day on schedule for every channel taking payments", async () => {
    // 00:30 UTC is 08:30 in Shanghai: the previous Shanghai business day is 11-30.
    const deps = { profiles: profiles(['WECHAT_PAY']), sandboxEnabled: true, clock, settlementTimeZones: zones };
    expect(await reconcileJobs(deps, { kind: 'schedule' })).toEqual([
      { channel: 'SANDBOX', date: '2026-11-30' },
      { channel: 'WECHAT_PAY', date: '2026-11-30' },
    ]);
    // A sandbox configured to settle in New York (UTC-5) is still on 11-30 there: its previous day is 11-29.
    const newYork = { ...deps, settlementTimeZones: settlementTimeZones('America/New_York') };
    expect(await reconcileJobs(newYork, { kind: 'schedule' })).toContainEqual({
      channel: 'SANDBOX',
      date: '2026-11-29',
    });
  });

  it('reconciles an uploaded bill, and skips (and reports) what is not a bill key', async () => {
    const skipped: string[] = [];
    const deps = {
      profiles: profiles([]),
      sandboxEnabled: false,
      clock,
      settlementTimeZones: zones,
      onSkippedKey: (k: string) => skipped.push(k),
    };
    const keys = ['bills/ALIPAY/2026-11-29.csv', 'bills/BALANCE/2026-11-29.csv', 'reports/x.json'];
    expect(await reconcileJobs(deps, { kind: 'bill-uploaded', keys })).toEqual([
      { channel: 'ALIPAY', date: '2026-11-29' },
    ]);
    expect(skipped).toEqual(keys.slice(1));
  });

  it('refuses a direct run of a channel that publishes no bill', async () => {
    const deps = { profiles: profiles([]), sandboxEnabled: false, clock, settlementTimeZones: zones };
    await expect(reconcileJobs(deps, { kind: 'direct', channel: 'BALANCE', date: '2026-11-29' })).rejects.toThrow(
      /not a reconciled channel/,
    );
  });

  it('unpacks an uploaded archive and reconciles only its CSV', async () => {
    const deps = { profiles: profiles([]), sandboxEnabled: false, clock, settlementTimeZones: zones };
    const keys = [
      'bills/ALIPAY/2026-11-29.csv.zip',
      'bills/ALIPAY/2026-11-29.csv',
      'bills/ALIPAY/2026-11-29.original.zip',
    ];
    expect(await billJobs(deps, { kind: 'bill-uploaded', keys })).toEqual([
      { channel: 'ALIPAY', date: '2026-11-29', archive: true },
    ]);
    expect(await reconcileJobs(deps, { kind: 'bill-uploaded', keys })).toEqual([
      { channel: 'ALIPAY', date: '2026-11-29' },
    ]);
    expect(await billJobs({ ...deps, sandboxEnabled: true }, { kind: 'schedule' })).toEqual([
      { channel: 'SANDBOX', date: '2026-11-30', archive: false },
    ]);
  });

  it('reads an S3 notification’s URL-encoded keys', () => {
    const event = { Records: [{ s3: { object: { key: 'bills/ALIPAY/2026-11-29.csv%2Ezip+x' } } }] };
    expect(triggerOf(event)).toEqual({ kind: 'bill-uploaded', keys: ['bills/ALIPAY/2026-11-29.csv.zip x'] });
  });
});
