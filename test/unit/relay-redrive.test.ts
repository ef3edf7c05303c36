import { describe, expect, it } from 'vitest';
import {
  inBatch,
  pastBatch,
  REDRIVE_MAX_ATTEMPTS,
  REDRIVE_MAX_DELAY_SECONDS,
  redriveDelaySeconds,
} from '#domain/relay-redrive.ts';

describe('relay re-drive backoff and batch bounds', () => {
  it('doubles the delay from 2 minutes up to SQS’s 15-minute maximum, about 45 minutes over all attempts', () => {
    const delays = Array.from({ length: REDRIVE_MAX_ATTEMPTS - 1 }, (_, i) => redriveDelaySeconds(i + 1));
    expect(delays).toEqual([120, 240, 480, 900, 900]);
    expect(redriveDelaySeconds(1_000)).toBe(REDRIVE_MAX_DELAY_SECONDS);
    expect(redriveDelaySeconds(3, 1)).toBe(4);
  });

  it('compares stream sequence numbers as numbers of any length, not as text', () => {
    const batch = {
      streamArn: 's',
      shardId: 'x',
      startSequenceNumber: '900',
      endSequenceNumber: '12000000000000000000001',
    };
    expect(inBatch(batch, '1000')).toBe(true); // '1000' < '900' as text
    expect(inBatch(batch, '899')).toBe(false);
    expect(inBatch(batch, '12000000000000000000001')).toBe(true);
    expect(pastBatch(batch, '12000000000000000000002')).toBe(true);
    expect(pastBatch(batch, '12000000000000000000001')).toBe(false);
  });
});
