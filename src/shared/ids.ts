import { randomUUID } from 'node:crypto';

/** Resource id prefixes from the contract. */
export type IdPrefix = 'pay' | 'ref' | 'evt' | 'led' | 'mch' | 'aud';

/** A new opaque id with its type prefix, e.g. `pay_3f0c…` (122 random bits). */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomUUID().replaceAll('-', '')}`;
}
