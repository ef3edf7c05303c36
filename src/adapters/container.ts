import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { AlarmMetrics, PaymentChannel, SecretCipher, Workflows } from '#app/ports.ts';
import { alipayConfig, wechatPayConfig } from '#domain/channel-fields.ts';
import type { Channel } from '#domain/payment.ts';
import { type GatewayConfig, loadConfig } from '#shared/config.ts';
import { newId } from '#shared/ids.ts';
import { metrics } from '#shared/observability.ts';
import { S3Files } from './aws/s3-files.ts';
import { SfnWorkflows } from './aws/sfn-workflows.ts';
import { SqsNotificationQueues } from './aws/sqs-queues.ts';
import { parseBill, sniffBillChannel } from './bills/parse-bill.ts';
import { ChannelAccounts } from './channel-accounts.ts';
import { LocalChannelSecrets, SecretsManagerChannelSecrets } from './channel-secrets.ts';
import { AlipayChannel } from './channels/alipay/alipay-channel.ts';
import { BalanceChannel } from './channels/balance.ts';
import { SandboxChannel } from './channels/sandbox.ts';
import { SandboxStore } from './channels/sandbox-store.ts';
import { WechatPayChannel } from './channels/wechat-pay/wechat-pay-channel.ts';
import {
  CachingSecretCipher,
  KmsSecretCipher,
  LocalSecretCipher,
  UnavailableSecretCipher,
} from './crypto/secret-cipher.ts';
import { DynamoChannelHealthRepository } from './dynamo/channel-health-repository.ts';
import { DynamoChannelProfileRepository } from './dynamo/channel-profile-repository.ts';
import { createDocumentClient } from './dynamo/client.ts';
import { DynamoDailyVolumeRepository } from './dynamo/daily-volume-repository.ts';
import { DynamoEventRepository } from './dynamo/event-repository.ts';
import { DynamoExpiryIndex } from './dynamo/expiry-index.ts';
import { DynamoIdempotencyRepository } from './dynamo/idempotency-repository.ts';
import { deploymentTimeZones } from './dynamo/keys.ts';
import { DynamoMerchantRepository } from './dynamo/merchant-repository.ts';
import { DynamoNonceStore } from './dynamo/nonce-store.ts';
import { DynamoPaymentRepository, DynamoRefundRepository } from './dynamo/payment-repository.ts';
import { DynamoReconciliationRepository } from './dynamo/reconciliation-repository.ts';
import { DynamoTransactionStore } from './dynamo/transaction-store.ts';
import { DynamoWalletRepository } from './dynamo/wallet-repository.ts';
import { GuardedEgress } from './http-notifier.ts';

/** Adapters a host process hands in instead of the AWS ones: the local stack runs the workflows in process. */
export interface ContainerOverrides {
  workflows?: Workflows;
}

let hostOverrides: ContainerOverrides = {};

/**
 * Every adapter the use cases need, wired once per container (the composition root); `overrides` default to the
 * ones set by {@link setContainerOverrides}.
 */
export function createContainer(config: GatewayConfig = loadConfig(), overrides: ContainerOverrides = hostOverrides) {
  const db = createDocumentClient();
  const clock = () => new Date();
  const cipher = new CachingSecretCipher(secretCipherFor(config));
  const sandboxSecret = sandboxSecretProvider(config);
  const sandboxStore = new SandboxStore(db, config.tableName);
  const channelProfiles = new DynamoChannelProfileRepository(db, config.tableName, {
    cacheTtlMs: config.channelConfigTtlMs,
  });
  const channelHealth = new DynamoChannelHealthRepository(db, config.tableName);
  const channelSecrets = config.channelSecretsDir
    ? new LocalChannelSecrets(config.channelSecretsDir)
    : new SecretsManagerChannelSecrets({ maxAgeSeconds: 300 });
  const accounts = new ChannelAccounts(channelProfiles, channelSecrets, { ttlMs: config.channelConfigTtlMs, clock });
  const channels = new Map<Channel, PaymentChannel>([
    ...(config.sandboxEnabled
      ? [['SANDBOX', new SandboxChannel(config.publicBaseUrl, sandboxSecret, sandboxStore)] as const]
      : []),
    ['BALANCE', new BalanceChannel()],
    ['ALIPAY', new AlipayChannel(() => accounts.config('ALIPAY', alipayConfig))],
    ['WECHAT_PAY', new WechatPayChannel(() => accounts.config('WECHAT_PAY', wechatPayConfig))],
  ]);
  const dailyVolume = new DynamoDailyVolumeRepository(db, config.tableName);
  const alarms: AlarmMetrics = { count: (name) => metrics.addMetric(name, MetricUnit.Count, 1) };
  const egress = new GuardedEgress({ allowLoopback: config.allowLoopbackHttp });
  return {
    config,
    db,
    clock,
    newId,
    cipher,
    sandboxSecret,
    channels,
    alarms,
    sandboxStore,
    events: new DynamoEventRepository(db, config.tableName),
    expiryIndex: new DynamoExpiryIndex(db, config.tableName),
    notifier: egress,
    notifyUrls: egress,
    queues: new SqsNotificationQueues({ notify: config.notifyQueueUrl, deadLetter: config.notifyDlqUrl }),
    workflows:
      overrides.workflows ??
      new SfnWorkflows({
        notifyRetry: config.notifyRetryStateMachineArn,
        orderExpiry: config.orderExpiryStateMachineArn,
      }),
    retrySchedule: config.retrySchedule,
    channelProfiles,
    channelHealth,
    channelSecrets,
    router: { channels, profiles: channelProfiles, health: channelHealth, volume: dailyVolume, clock },
    store: new DynamoTransactionStore(db, config.tableName, clock),
    payments: new DynamoPaymentRepository(db, config.tableName),
    refunds: new DynamoRefundRepository(db, config.tableName),
    wallets: new DynamoWalletRepository(db, config.tableName),
    merchants: new DynamoMerchantRepository(db, config.tableName),
    nonces: new DynamoNonceStore(db, config.tableName),
    idempotency: new DynamoIdempotencyRepository(db, config.tableName, clock),
    files: new S3Files({ bills: config.billsBucket, reports: config.reportsBucket }),
    reconciliations: new DynamoReconciliationRepository(db, config.tableName),
    settlementTimeZones: deploymentTimeZones(),
    bills: { parse: parseBill, sniff: sniffBillChannel },
  };
}

export type Container = ReturnType<typeof createContainer>;

let container: Container | undefined;

/** The container of this Lambda execution environment, created on first use. */
export function getContainer(): Container {
  container ??= createContainer();
  return container;
}

/**
 * Sets the overrides of every container created from now on, `getContainer`'s included (its current one is dropped).
 * Never called on Lambda; the local stack and tests call it before the handlers run.
 */
export function setContainerOverrides(overrides: ContainerOverrides): void {
  hostOverrides = overrides;
  container = undefined;
}

function secretCipherFor(config: GatewayConfig): SecretCipher {
  const source = config.secretCipher;
  if (source.kind === 'kms') return new KmsSecretCipher(source.keyId);
  if (source.kind === 'local') return new LocalSecretCipher(source.masterKey);
  return new UnavailableSecretCipher();
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
