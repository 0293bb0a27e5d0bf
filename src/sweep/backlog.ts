import type { Logger } from '../logging/logger.js';
import type { RunMetrics } from '../metrics/run-metrics.js';

export interface Backlog {
  /** An item this run leaves to a later one, by its item date (YYYY-MM-DD, or null: not dated). */
  leftBehind(itemDate: string | null | undefined): void;
  readonly oldestItemDate: string | undefined;
}

/**
 * The oldest item date among the notifications a run leaves to a later run: retried,
 * released, without a token, held by another run, waiting out a backoff, or not reached
 * because the run stopped. The run meets each of them anyway, so this costs no query.
 * Refused ones (failed, dead) are not in it: they have an alert of their own.
 */
export function createBacklog(): Backlog {
  let oldest: string | undefined;
  return {
    leftBehind(itemDate) {
      // YYYY-MM-DD strings sort as the dates they name.
      if (itemDate && (oldest === undefined || itemDate < oldest)) oldest = itemDate;
    },
    get oldestItemDate() {
      return oldest;
    },
  };
}

const DAY_MS = 86_400_000;

/**
 * How long the oldest notification the job still owes has been owed: since it fell due
 * (`fellDueAt`: the latest instant it did in the zones in use), or, where that is not
 * known, since its item date (a delayed todo's due date, a digest's day) in UTC, less
 * `owedDaysBefore` (a reminder is owed from the day before its due date). 0 while none is
 * owed yet.
 */
export function recordBacklog(metrics: RunMetrics, logger: Logger, oldest: string | undefined,
  owedDaysBefore = 0, now = Date.now(), fellDueAt?: Date): void {
  // From when it fell due (local-due-times.ts: latestFallDue), where the run could say.
  const ageSeconds = oldest && fellDueAt ? Math.max(0, (now - fellDueAt.getTime()) / 1000) : owedAgeSeconds(oldest, owedDaysBefore, now);
  metrics.setGauge('sweep_backlog_oldest_age_seconds',
    'How long the oldest notification the job still owes has been owed, from when it fell due (0: none).', ageSeconds);
  if (oldest) logger.debug({ oldestItemDate: oldest }, 'oldest item left to a later run');
}

/** Seconds since a notification of item date `oldest` is owed (0 for none): the backlog's age, for the metric and the console. */
export function owedAgeSeconds(oldest: string | null | undefined, owedDaysBefore = 0, now = Date.now()): number {
  if (!oldest) return 0;
  const owedSince = Date.parse(`${oldest}T00:00:00Z`) - owedDaysBefore * DAY_MS;
  return Math.max(0, (now - owedSince) / 1000);
}
