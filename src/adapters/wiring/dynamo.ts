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

/*
 * The table's adapters, in groups a function picks from (`tableParts` first, then the groups whose repositories it
 * calls), so a function's bundle holds only the adapter classes it uses. `dynamoParts` is every group: hosts that run
 * the whole gateway (`src/adapters/container.ts`) and workers that touch most of the table.
 */

/**
 * What every function that touches the table needs: the configuration, the client, the clock, ids, alarm metrics, and
 * what authenticates and rate-limits a merchant request (merchants, nonces, the rate limiter).
 */
export function tableParts(config: GatewayConfig, db: DynamoDBDocumentClient) {
  const clock = () => new Date();
  const table = config.tableName;
  const alarms: AlarmMetrics = { count: (name) => metrics.addMetric(name, MetricUnit.Count, 1) };
  return {
    config,
    db,
    table,
    clock,
    newId,
    alarms,
    retrySchedule: config.retrySchedule,
    paymentSyncAfterMs: config.paymentSyncAfterMs,
    settlementTimeZones: deploymentTimeZones(),
    merchants: merchantRepository(db, table, config.merchantCacheTtlMs),
    nonces: new DynamoNonceStore(db, table),
    // One per wiring, i.e. per function per container: its leases and last view of each bucket live here.
    rateLimiter: new RateLimiter(new DynamoRateLimitStore(db, table), config.rateLimits, clock, (error) => {
      logger.warn('rate limiter store failed: request admitted', { error: String(error) });
      alarms.count('RateLimiterUnavailable');
    }),
  };
}

/** What {@link tableParts} builds: the base every other group is built from. */
export type TableParts = ReturnType<typeof tableParts>;

/** Payments and refunds (reads, and the repositories the writes read through). */
export function paymentRecords({ db, table }: TableParts) {
  return { payments: new DynamoPaymentRepository(db, table), refunds: new DynamoRefundRepository(db, table) };
}

/** Wallets: balances, ledger pages, holds. */
export function walletRecords({ db, table }: TableParts) {
  return { wallets: new DynamoWalletRepository(db, table) };
}

/** Notification events and their delivery attempts. */
export function eventRecords({ db, table }: TableParts) {
  return { events: new DynamoEventRepository(db, table) };
}

/** What a state change writes through: the transaction store, idempotency records and the expiry index. */
export function writeParts({ db, table, clock }: TableParts) {
  return {
    store: new DynamoTransactionStore(db, table, clock),
    idempotency: new DynamoIdempotencyRepository(db, table, clock),
    expiryIndex: new DynamoExpiryIndex(db, table),
  };
}

/** The channels' state on the table: profiles (cached), health, daily volume, the sandbox's own records. */
export function channelStateParts({ db, table, config }: TableParts) {
  return {
    sandboxStore: new SandboxStore(db, table),
    channelProfiles: new DynamoChannelProfileRepository(db, table, { cacheTtlMs: config.channelConfigTtlMs }),
    channelHealth: new DynamoChannelHealthRepository(db, table),
    dailyVolume: new DynamoDailyVolumeRepository(db, table),
  };
}

/** The risk engine's store and metrics; `RISK_ENGINE=off` leaves `risk` out (payments then carry an empty ALLOW). */
export function riskParts({ db, table, config }: TableParts) {
  const riskStore = new DynamoRiskRepository(db, table, { cacheTtlMs: config.riskCacheTtlMs });
  return { riskStore, risk: config.riskEnabled ? riskStore : undefined, riskMetrics };
}

/** Fee schedules and the fee records of settled payments. */
export function feeParts({ db, table }: TableParts) {
  return {
    feeSchedules: new DynamoFeeScheduleRepository(db, table),
    feeRecords: new DynamoFeeRecordRepository(db, table),
  };
}

/** Reconciliation run records. */
export function reconciliationRecords({ db, table }: TableParts) {
  return { reconciliations: new DynamoReconciliationRepository(db, table) };
}

/**
 * What moves a payment or refund at its channel (create, close, refund, query): payments and refunds, wallets (the
 * balance channel), the write path and the channels' state.
 */
export function paymentFlowParts(base: TableParts) {
  return { ...paymentRecords(base), ...walletRecords(base), ...writeParts(base), ...channelStateParts(base) };
}

/** Every group: each table adapter of the gateway. */
export function dynamoParts(config: GatewayConfig, db: DynamoDBDocumentClient) {
  const base = tableParts(config, db);
  return {
    ...base,
    ...paymentFlowParts(base),
    ...eventRecords(base),
    ...riskParts(base),
    ...feeParts(base),
    ...reconciliationRecords(base),
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
