import type { NotifyUrlGuard } from '#app/ports.ts';
import { ValidationError } from '#shared/errors.ts';

/**
 * `400 NOTIFY_URL_INVALID` unless the gateway may POST to `url`: the egress policy applied to its form and to the
 * addresses its host resolves to now (every delivery checks again at connect time). Payment and merchant notify
 * URLs both come through here.
 */
export async function assertNotifyUrl(guard: NotifyUrlGuard, url: string): Promise<void> {
  const problem = await guard.problem(url);
  if (problem) throw new ValidationError('NOTIFY_URL_INVALID', `notify_url ${problem}`);
}
