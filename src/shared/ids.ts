import { randomUUID } from 'node:crypto';

/** Resource id prefixes from the contract (and `run_` for a reconciliation run). */
export type IdPrefix = 'pay' | 'ref' | 'evt' | 'led' | 'mch' | 'aud' | 'run' | 'jnl';

/** A new opaque id with its type prefix, e.g. `pay_3f0c…` (122 random bits). */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}
