/** The contract's schedule: 1 s, 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 6 h, 15 h (about 25 h in all). */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [1, 5, 30, 120, 600, 1800, 3600, 7200, 21600, 54000];
export const DEFAULT_RETRY_JITTER = 0.2;

/**
 * Parses the configured schedule (`"1,5,30"` seconds); the default is the contract's. Configuration, not code, so an
 * operator can stretch or shorten it (tests shorten it).
 */
export function parseRetrySchedule(text: string | undefined): number[] {
  if (!text) return [...DEFAULT_RETRY_SCHEDULE_SECONDS];
  const schedule = text.split(',').map((part) => Number(part.trim()));
  if (!schedule.length || schedule.some((seconds) => !Number.isInteger(seconds) || seconds < 0)) {
    throw new Error(`invalid retry schedule "${text}": expected comma-separated whole seconds`);
  }
  return schedule;
}
