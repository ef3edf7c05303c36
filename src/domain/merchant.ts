import type { ListingShardStep } from './listing-shards.ts';
import type { RateLimitOverrides } from './rate-limit.ts';

/** A merchant account. Its HMAC secret is only ever stored encrypted (`secretCiphertext`). */
export interface Merchant {
  id: string;
  name: string;
  status: 'ACTIVE' | 'DISABLED';
  secretCiphertext: string;
  /** After a rotation the previous secret keeps working until `previousSecretExpiresAt`, so merchants can roll over. */
  previousSecretCiphertext?: string;
  previousSecretExpiresAt?: string;
  /** Default `notify_url` for payments that name none. */
  notifyUrl?: string;
  /** Per-merchant amount limits in major units; the contract's defaults apply when absent. */
  minAmount?: string;
  maxAmount?: string;
  /** Its own token buckets where they differ from the gateway's defaults (`npm run merchant -- limits`). */
  rateLimits?: RateLimitOverrides;
  /** `test`: its routed payments may land on the built-in sandbox (free test money); absent means `live`. */
  mode?: MerchantMode;
  /** Its own GSI1 listing shard counts over time, append-only (`npm run merchant -- listing-shards`); absent: 1. */
  listingShardSteps?: ListingShardStep[];
  createdAt: string;
  updatedAt: string;
}

/** Live merchants' routed payments only go to real channels; test-mode merchants' may use the sandbox. */
export type MerchantMode = 'live' | 'test';

export const MERCHANT_MODES: readonly MerchantMode[] = ['live', 'test'];

/** A merchant id: 1–64 of `[A-Za-z0-9_-]` (ids are key parts and header values; nothing else is ever created). */
export const MERCHANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const DEFAULT_MIN_AMOUNT = '0.01';
export const DEFAULT_MAX_AMOUNT = '50000.00';

/** A merchant's secrets in the order they are tried: current first, then a still-valid previous one. */
export function activeSecretCiphertexts(merchant: Merchant, now: Date): string[] {
  const secrets = [merchant.secretCiphertext];
  if (
    merchant.previousSecretCiphertext &&
    merchant.previousSecretExpiresAt &&
    Date.parse(merchant.previousSecretExpiresAt) > now.getTime()
  ) {
    secrets.push(merchant.previousSecretCiphertext);
  }
  return secrets;
}
