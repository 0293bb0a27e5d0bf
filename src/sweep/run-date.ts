import type { Knex } from 'knex';
import { describeDatabaseError } from '../database/database.js';
import { AbortRunError, UsageError } from '../runner/errors.js';
import type { SweepOptions } from './notification-job.js';

/**
 * Why a run may not take `date` as its run date, or undefined when it may: a date after
 * today would notify about what is not true yet (a todo due next week "is delayed").
 * Dates are YYYY-MM-DD, which sort as the days they name. A dry run sends nothing and
 * may look ahead; an operator who means it says so.
 */
export function futureDateRefusal(date: string | undefined, today: string,
  options: Pick<SweepOptions, 'allowFutureDate' | 'dryRun'>): string | undefined {
  if (date === undefined || date <= today || options.allowFutureDate || options.dryRun) return undefined;
  return `the run date ${date} is after today (${today}, UTC, by the database's clock): a run would notify about what is not `
    + 'true yet; nothing was done (--dry-run looks ahead; --allow-future-date runs it anyway)';
}

/**
 * Why a run may not be as of `at`, or undefined when it may: an instant after the
 * database's clock would send what has not fallen due yet. ISO instants in UTC sort as
 * the instants they name.
 */
export function futureInstantRefusal(at: string | undefined, now: string,
  options: Pick<SweepOptions, 'allowFutureDate' | 'dryRun'>): string | undefined {
  if (at === undefined || at <= now || options.allowFutureDate || options.dryRun) return undefined;
  return `the instant ${at} is after now (${now}, by the database's clock): a run would send what has not fallen due yet; `
    + 'nothing was done (--dry-run looks ahead; --allow-future-date runs it anyway)';
}

/** Today in UTC by the database's clock, as YYYY-MM-DD: the clock every run and trigger shares. */
export async function databaseToday(db: Knex): Promise<string> {
  const result = await db.raw<{ rows: Array<{ today: string }> }>(`select to_char((now() at time zone 'utc')::date, 'YYYY-MM-DD') as today`);
  return result.rows[0]!.today;
}

/** Refuses a run date after today with a usage error (exit 64), before the run is recorded. */
export async function refuseFutureRunDate(db: Knex, options: SweepOptions): Promise<void> {
  if (options.date !== undefined && options.at !== undefined) {
    throw new UsageError('--date and --at cannot be used together: --date backfills a local day whatever the hour, --at runs as of an instant');
  }
  if ((options.date === undefined && options.at === undefined) || options.allowFutureDate || options.dryRun) return;
  const clock = await databaseClock(db).catch((error: unknown) => {
    throw new AbortRunError(`cannot read the database's clock: ${describeDatabaseError(error)}`, {}, { cause: error });
  });
  const refusal = futureDateRefusal(options.date, clock.today, options) ?? futureInstantRefusal(options.at, clock.now, options);
  if (refusal) throw new UsageError(refusal);
}

async function databaseClock(db: Knex): Promise<{ today: string; now: string }> {
  const result = await db.raw<{ rows: Array<{ today: string; now: string }> }>(`select to_char((now() at time zone 'utc')::date, 'YYYY-MM-DD') as today,
    to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as now`);
  return result.rows[0]!;
}
