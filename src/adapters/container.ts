import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { AlarmMetrics, PaymentChannel } from '#app/ports.ts';
import type { Channel } from '#domain/payment.ts';
import { type GatewayConfig, loadConfig } from '#shared/config.ts';
import { newId } from '#shared/ids.ts';
import { metrics } from '#shared/observability.ts';
import { SandboxChannel } from './channels/sandbox.ts';
import { CachingSecretCipher, KmsSecretCipher, LocalSecretCipher } from './crypto/secret-cipher.ts';
import { createDocumentClient } from './dynamo/client.ts';
import { DynamoIdempotencyRepository } from './dynamo/idempotency-repository.ts';
import { DynamoMerchantRepository } from './dynamo/merchant-repository.ts';
import { DynamoNonceStore } from './dynamo/nonce-store.ts';
import { DynamoPaymentRepository } from './dynamo/payment-repository.ts';
import { DynamoWalletRepository } from './dynamo/wallet-repository.ts';

/** Every adapter the use cases need, wired once per container (the composition root). */
export function createContainer(config: GatewayConfig = loadConfig()) {
  const db = createDocumentClient();
  const clock = () => new Date();
  const cipher = new CachingSecretCipher(
    config.secretCipher.kind === 'kms'
      ? new KmsSecretCipher(config.secretCipher.keyId)
      : new LocalSecretCipher(config.secretCipher.masterKey),
  );
  const sandboxSecret = sandboxSecretProvider(config);
  const channels = new Map<Channel, PaymentChannel>([
    ['SANDBOX', new SandboxChannel(config.publicBaseUrl, sandboxSecret)],
  ]);
  const alarms: AlarmMetrics = { count: (name) => metrics.addMetric(name, MetricUnit.Count, 1) };
  return {
    config,
    db,
    clock,
    newId,
    newPaymentId: () => newId('pay'),
    cipher,
    sandboxSecret,
    channels,
    alarms,
    payments: new DynamoPaymentRepository(db, config.tableName),
    wallets: new DynamoWalletRepository(db, config.tableName),
    merchants: new DynamoMerchantRepository(db, config.tableName),
    nonces: new DynamoNonceStore(db, config.tableName),
    idempotency: new DynamoIdempotencyRepository(db, config.tableName, clock),
  };
}

export type Container = ReturnType<typeof createContainer>;

let container: Container | undefined;

/** The container of this Lambda execution environment, created on first use. */
export function getContainer(): Container {
  container ??= createContainer();
  return container;
}

/** Secrets Manager on AWS (cached by Powertools for 5 min), the environment on the local stack. */
function sandboxSecretProvider(config: GatewayConfig): () => Promise<string> {
  const source = config.sandboxSecret;
  if (source.kind === 'env') return async () => source.value;
  return async () => {
    const value = await getSecret<string>(source.arn, { maxAge: 300 });
    if (!value) throw new Error('sandbox secret is empty');
    return value;
  };
}
