import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditActor } from '#domain/audit.ts';

/** What the audit trail needs to know about the request (or CLI run) a change happens in. */
export interface RequestContext {
  requestId?: string;
  actor?: AuditActor;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `work` with `context` as the current request's (the HTTP handler per request; a CLI once per run). */
export function withRequestContext<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

/** The current request's context; empty outside one (a timer, a queue consumer: the system acts). */
export function currentRequestContext(): RequestContext {
  return storage.getStore() ?? {};
}
