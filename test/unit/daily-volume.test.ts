import { describe, expect, it } from 'vitest';
import { channelKeys } from '#adapters/dynamo/channel-keys.ts';
import { DAILY_VOLUME_PLAN, dailyVolumeShards } from '#domain/daily-volume.ts';

describe('sharded daily volume (pure)', () => {
  it('keeps days before the plan on the one unsharded counter, and its count from its first day on', () => {
    const first = DAILY_VOLUME_PLAN[0];
    if (!first) throw new Error('no plan');
    expect(dailyVolumeShards('2026-12-01')).toBe(1);
    expect(dailyVolumeShards(first.from)).toBe(first.shards);
    expect(channelKeys.daily('ALIPAY', '2026-12-01')).toEqual({ PK: 'CHANNEL#ALIPAY', SK: 'DAILY#2026-12-01' });
    expect(channelKeys.daily('ALIPAY', '2026-12-05', 17)).toEqual({ PK: 'VOLUME#ALIPAY#2026-12-05#17', SK: 'DAILY' });
  });
});
