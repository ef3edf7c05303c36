import { currentRequestContext } from '#app/request-context.ts';
import type { AuditActor, AuditRecord } from '#domain/audit.ts';
import type { IdPrefix } from '#shared/ids.ts';

/** What every audited use case needs to stamp its record. */
export interface AuditDeps {
  clock: () => Date;
  newId: (prefix: IdPrefix) => string;
}

/**
 * The audit record of one sensitive operation, stamped with the current request id and actor. `actor` wins when the
 * use case knows it (the authenticated merchant); otherwise the request context's (an operator's CLI run), else the
 * gateway itself.
 */
export function auditRecord(
  deps: AuditDeps,
  entry: Omit<AuditRecord, 'id' | 'at' | 'actor' | 'requestId'> & { actor?: AuditActor },
): AuditRecord {
  const context = currentRequestContext();
  const actor = entry.actor ?? context.actor ?? { type: 'system', id: 'pay-gateway' };
  return {
    ...entry,
    id: deps.newId('aud'),
    at: deps.clock().toISOString(),
    actor,
    ...(context.requestId ? { requestId: context.requestId } : {}),
  };
}

/** The merchant as an audit actor. */
export const merchantActor = (merchantId: string): AuditActor => ({ type: 'merchant', id: merchantId });
