import { describe, expect, it } from 'vitest';
import { assertCallbackSource } from '#app/callback-source.ts';
import type { AlarmMetrics, ChannelProfiles } from '#app/ports.ts';
import { allowlistProblems, sourceAllowed } from '#domain/callback-allowlist.ts';
import type { ChannelProfile } from '#domain/channel-config.ts';
import { AppError } from '#shared/errors.ts';
import { profileOf } from '../support/channel-fakes.ts';

const RANGES = ['110.75.0.0/16', '203.0.113.7', '2400:1234::/32'];

describe('callback source allowlists', () => {
  it.each([
    ['110.75.3.4', true],
    ['110.76.0.1', false],
    ['203.0.113.7', true],
    ['203.0.113.8', false],
    ['::ffff:110.75.200.1', true], // an IPv4 client on a dual-stack socket
    ['::ffff:10.0.0.1', false],
    ['2400:1234:ab::1', true],
    ['2400:1235::1', false],
    ['not-an-ip', false],
    ['', false],
  ])('%s → %s', (source, allowed) => {
    expect(sourceAllowed(source, RANGES)).toBe(allowed);
  });

  it('allows every source without a list, and no unknown source with one', () => {
    expect(sourceAllowed('198.51.100.1', undefined)).toBe(true);
    expect(sourceAllowed('198.51.100.1', [])).toBe(true);
    expect(sourceAllowed(undefined, RANGES)).toBe(false);
  });

  it('names every malformed range', () => {
    expect(allowlistProblems(RANGES)).toEqual([]);
    expect(allowlistProblems(['10.0.0.0/33', 'example.com', '::/129', '1.2.3.4/-1'])).toHaveLength(4);
  });

  it('refuses an outside source with 403 CALLBACK_SOURCE_FORBIDDEN and one metric; built-in channels have no list', async () => {
    const counted: string[] = [];
    const alarms: AlarmMetrics = { count: (name) => counted.push(name) };
    const profiles: Pick<ChannelProfiles, 'get'> = {
      get: async (channel) => profileOf(channel, { callbackAllowlist: RANGES }) as ChannelProfile,
    };
    const deps = { channelProfiles: profiles as ChannelProfiles, alarms };
    await assertCallbackSource(deps, 'ALIPAY', '110.75.0.9');
    await assertCallbackSource(deps, 'SANDBOX', '198.51.100.1');
    const refused = await assertCallbackSource(deps, 'WECHAT_PAY', '198.51.100.1').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: 'CALLBACK_SOURCE_FORBIDDEN', httpStatus: 403 });
    expect(counted).toEqual(['CallbackSourceRejected']);
  });
});
