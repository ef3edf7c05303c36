import { createHash } from 'node:crypto';

/** Who did it: an authenticated merchant, an operator at a CLI, or the gateway itself (timers, reconciliation). */
export interface AuditActor {
  type: 'merchant' | 'operator' | 'system';
  id: string;
}

/** The sensitive operations the gateway records (seeds: initiation, configuration, manual repairs). */
export type AuditAction =
  | 'merchant.created'
  | 'merchant.secret_rotated'
  | 'merchant.status_changed'
  | 'merchant.rate_limits_changed'
  | 'merchant.listing_shards_changed'
  | 'channel.configured'
  | 'event.replayed'
  | 'payment.created'
  | 'payment.closed'
  | 'refund.created'
  | 'reconciliation.repaired'
  | 'fees.schedule_changed'
  | 'wallet.sub_balances_changed'
  | 'risk.config_changed'
  | 'risk.blacklist_added'
  | 'risk.blacklist_removed'
  | 'risk.review_approved'
  | 'risk.review_rejected'
  | 'risk.blocked';

/**
 * One append-only audit entry: who, what, when, on which resource, under which request — and the state before and
 * after as redacted views (see {@link auditView}). Written in the same transaction as the change it records.
 */
export interface AuditRecord {
  id: string;
  at: string;
  actor: AuditActor;
  action: AuditAction;
  resource: { type: string; id: string };
  merchantId?: string;
  requestId?: string;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

/** Field names whose values never enter an audit record, whatever object they sit in. */
const SECRET_FIELD = /secret|ciphertext|key|password|token|signature|pem|cert/i;

/**
 * A view of an object fit for the audit log: the listed non-secret fields as they are, plus a fingerprint (SHA-256 of
 * the whole object, secrets included) so a reviewer can tell two states apart without seeing what they hold.
 */
export function auditView(value: object, fields: readonly string[]): Record<string, unknown> {
  const source = value as Record<string, unknown>;
  const shown = fields.filter((name) => !SECRET_FIELD.test(name) && source[name] !== undefined);
  return {
    ...Object.fromEntries(shown.map((name) => [name, source[name]])),
    fingerprint: fingerprint(value),
  };
}

/** A short, stable hash of a JSON value (keys sorted), for telling states apart without showing them. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
