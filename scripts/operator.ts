import { userInfo } from 'node:os';
import { withRequestContext } from '#app/request-context.ts';

/**
 * Runs a CLI command as an operator, so the audit trail names who changed what: `AUDIT_OPERATOR` when set (e.g. the
 * SSO identity in a CI job), else the OS user.
 */
export function asOperator<T>(work: () => Promise<T>): Promise<T> {
  const id = process.env.AUDIT_OPERATOR || safeUserName();
  return withRequestContext({ actor: { type: 'operator', id } }, work);
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
