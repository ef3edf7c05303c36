import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlarmMetrics, RiskMetrics } from '#app/ports.ts';
import { RateLimiter } from '#app/rate-limiter.ts';
import type { GatewayConfig } from '#shared/config.ts';
import { newId } from '#shared/ids.ts';
import { logger, metrics } from '#shared/observability.ts';
import { SandboxStore } from '../channels/sandbox-store.ts';
import { DynamoChannelHealthRepository } from '../dynamo/channel-health-repository.ts';
import { DynamoChannelProfileRepository } from '../dynamo/channel-profile-repository.ts';
import { DynamoDailyVolumeRepository } from '../dynamo/daily-volume-repository.ts';
import { DynamoEventRepository } from '../dynamo/event-repository.ts';
import { DynamoExpiryIndex } from '../dynamo/expiry-index.ts';
import { DynamoFeeRecordRepository, DynamoFeeScheduleRepository } from '../dynamo/fee-repository.ts';
import { DynamoIdempotencyRepository } from '../dynamo/idempotency-repository.ts';
import { deploymentTimeZones } from '../dynamo/keys.ts';
import { merchantRepository } from '../dynamo/merchant-repository.ts';
import { DynamoNonceStore } from '../dynamo/nonce-store.ts';
import { DynamoPaymentRepository, DynamoRefundRepository } from '../dynamo/payment-repository.ts';
import { DynamoRateLimitStore } from '../dynamo/rate-limit-store.ts';
import { DynamoReconciliationRepository } from '../dynamo/reconciliation-repository.ts';
import { DynamoRiskRepository } from '../dynamo/risk-repository.ts';
import { DynamoTransactionStore } from '../dynamo/transaction-store.ts';
import { DynamoWalletRepository } from '../dynamo/wallet-repository.ts';

/**
 * Every table-backed adapter, the clock, ids and alarm metrics: what needs only the DynamoDB client (every function
 * that touches the table carries that client anyway, and these classes are a few KB of our own code).
 */
export function dynamoParts(config: GatewayConfig, db: DynamoDBDocumentClient) {
  const clock = () => new Date();
  const table = config.tableName;
  const alarms: AlarmMetrics = { count: (name) => metrics.addMetric(name, MetricUnit.Count, 1) };
  const riskStore = new DynamoRiskRepository(db, table);
  return {
    config,
    db,
    clock,
    newId,
    alarms,
    retrySchedule: config.retrySchedule,
    paymentSyncAfterMs: config.paymentSyncAfterMs,
    sandboxStore: new SandboxStore(db, table),
    channelProfiles: new DynamoChannelProfileRepository(db, table, { cacheTtlMs: config.channelConfigTtlMs }),
    channelHealth: new DynamoChannelHealthRepository(db, table),
    dailyVolume: new DynamoDailyVolumeRepository(db, table),
    events: new DynamoEventRepository(db, table),
    expiryIndex: new DynamoExpiryIndex(db, table),
    store: new DynamoTransactionStore(db, table, clock),
    payments: new DynamoPaymentRepository(db, table),
    refunds: new DynamoRefundRepository(db, table),
    wallets: new DynamoWalletRepository(db, table),
    merchants: merchantRepository(db, table, config.merchantCacheTtlMs),
    nonces: new DynamoNonceStore(db, table),
    // One per wiring, i.e. per function per container: its leases and last view of each bucket live here.
    rateLimiter: new RateLimiter(new DynamoRateLimitStore(db, table), config.rateLimits, clock, (error) => {
      logger.warn('rate limiter store failed: request admitted', { error: String(error) });
      alarms.count('RateLimiterUnavailable');
    }),
    idempotency: new DynamoIdempotencyRepository(db, table, clock),
    reconciliations: new DynamoReconciliationRepository(db, table),
    feeSchedules: new DynamoFeeScheduleRepository(db, table),
    feeRecords: new DynamoFeeRecordRepository(db, table),
    settlementTimeZones: deploymentTimeZones(),
    riskStore,
    /** The risk engine of payment creation; `RISK_ENGINE=off` leaves it out (payments then carry an empty ALLOW). */
    risk: config.riskEnabled ? riskStore : undefined,
    riskMetrics,
  };
}

/** Every risk decision (`RiskAllow`/`RiskReview`/`RiskBlock`) and every fired rule (`RiskRuleFired`, dimension `rule`). */
const riskMetrics: RiskMetrics = {
  decided: (decision, rules) => {
    metrics.addMetric(`Risk${decision[0]}${decision.slice(1).toLowerCase()}`, MetricUnit.Count, 1);
    for (const rule of rules) {
      const single = metrics.singleMetric();
      single.addDimension('rule', rule);
      single.addMetric('RiskRuleFired', MetricUnit.Count, 1);
    }
  },
};

/** What {@link dynamoParts} builds. */
export type DynamoParts = ReturnType<typeof dynamoParts>;
