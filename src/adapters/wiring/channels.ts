import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { PaymentChannel } from '#app/ports.ts';
import type { ChannelRouter } from '#app/routing.ts';
import { alipayConfig, wechatPayConfig } from '#domain/channel-fields.ts';
import type { Channel } from '#domain/payment.ts';
import type { GatewayConfig } from '#shared/config.ts';
import { ChannelAccounts } from '../channel-accounts.ts';
import { LocalChannelSecrets, SecretsManagerChannelSecrets } from '../channel-secrets.ts';
import { AlipayChannel } from '../channels/alipay/alipay-channel.ts';
import { BalanceChannel } from '../channels/balance.ts';
import { journaled, journalingFetch } from '../channels/journaling.ts';
import { SandboxChannel } from '../channels/sandbox.ts';
import { WechatPayChannel } from '../channels/wechat-pay/wechat-pay-channel.ts';
import type { channelStateParts, TableParts } from './dynamo.ts';
import { journalParts } from './journal.ts';

/**
 * The payment channels (sandbox when enabled, balance, Alipay, WeChat Pay), their secrets and the router over them:
 * what creates, closes, refunds, queries or settles a payment at its channel.
 */
export function channelParts(base: TableParts & ReturnType<typeof channelStateParts>) {
  const { config, channelProfiles, channelHealth, dailyVolume, sandboxStore, clock } = base;
  const sandboxSecret = sandboxSecretProvider(config);
  const { channelSecrets, accounts } = channelAccountParts(base);
  // Every message exchanged with Alipay and WeChat Pay is journaled, redacted, in the background.
  const { journal } = journalParts(base);
  const fetch = journalingFetch();
  const channels = new Map<Channel, PaymentChannel>([
    ...(config.sandboxEnabled
      ? [['SANDBOX', new SandboxChannel(config.publicBaseUrl, sandboxSecret, sandboxStore)] as const]
      : []),
    ['BALANCE', new BalanceChannel()],
    ['ALIPAY', journaled(new AlipayChannel(() => accounts.config('ALIPAY', alipayConfig), { fetch }), journal, clock)],
    [
      'WECHAT_PAY',
      journaled(new WechatPayChannel(() => accounts.config('WECHAT_PAY', wechatPayConfig), { fetch }), journal, clock),
    ],
  ]);
  const router: ChannelRouter = {
    channels,
    profiles: channelProfiles,
    health: channelHealth,
    volume: dailyVolume,
    clock,
  };
  return { channels, channelSecrets, sandboxSecret, router, journal };
}

/**
 * The external channels' accounts (profile + secret, cached): what every Alipay / WeChat Pay adapter is configured
 * from — the payment channels here, the bill downloads (`billIntakeParts`).
 */
export function channelAccountParts(
  base: Pick<TableParts & ReturnType<typeof channelStateParts>, 'config' | 'channelProfiles' | 'clock'>,
) {
  const { config, channelProfiles, clock } = base;
  const channelSecrets = config.channelSecretsDir
    ? new LocalChannelSecrets(config.channelSecretsDir)
    : new SecretsManagerChannelSecrets({ maxAgeSeconds: 300 });
  const accounts = new ChannelAccounts(channelProfiles, channelSecrets, { ttlMs: config.channelConfigTtlMs, clock });
  return { channelSecrets, accounts };
}

/** Secrets Manager on AWS (cached by Powertools for 5 min), the environment on the local stack. */
function sandboxSecretProvider(config: GatewayConfig): () => Promise<string> {
  const source = config.sandboxSecret;
  if (source.kind === 'env') return async () => source.value;
  if (source.kind === 'none') {
    return () => Promise.reject(new Error('this function has no sandbox secret (SANDBOX_SECRET_ARN / SANDBOX_SECRET)'));
  }
  return async () => {
    const value = await getSecret<string>(source.arn, { maxAge: 300 });
    if (!value) throw new Error('sandbox secret is empty');
    return value;
  };
}
