import type { Knex } from 'knex';
import { advanceJobPosition, databaseNow, getJobPosition, type JobPosition } from '../ledger/job-positions.js';
import type { SurveyCounts } from '../ledger/undelivered.js';
import type { Logger } from '../logging/logger.js';
import { changedPages, duePages, scanPages, unreadable, type NotificationPage } from './item-pages.js';
import type { AnyNotificationJob, SweepRun } from './notification-job.js';

/**
 * How long a transaction that writes todos may stay open and still be seen: a change is
 * read again for this long behind the last run's start, since a row committed late
 * carries the time its transaction began. The reread costs a few minutes of changes; a
 * todo written by a transaction open longer, with a due date already behind the scan,
 * would be missed.
 */
export const CHANGE_LAG_MS = 10 * 60 * 1000;

/** What one run reads, in order, and how it remembers how far it got. */
export interface RunPlan {
  survey: SurveyCounts | undefined;
  /** Where the scan starts: the position earlier runs settled (resume), if any. */
  remembered: JobPosition | undefined;
  pages(): AsyncGenerator<NotificationPage>;
  /** A page was claimed whole: every item up to its last has a delivery now. */
  settled(page: NotificationPage): Promise<void>;
  /** Every page was read and claimed: the whole scope, as it stood at the start, is settled. */
  completed(): Promise<void>;
}

/**
 * The ledger's due deliveries first, then, for a job that resumes, what appeared behind
 * its remembered position since, then its items after that position (or all of them,
 * for a job that does not resume or has not run yet).
 */
export async function planRun(db: Knex, job: AnyNotificationJob, run: SweepRun, logger: Logger): Promise<RunPlan> {
  const read = <T>(what: Promise<T>) => what.catch((error: unknown) => { throw unreadable(job, error, { runDate: run.runDate }); });
  const survey = job.survey ? await read(job.survey(db, run) as Promise<SurveyCounts>) : undefined;
  const resume = job.resume;
  const remembered = resume ? await read(getJobPosition(db, job.name)) : undefined;
  // Read before the scan: what a scan that completes has settled. Todos written after it
  // have a changed_at past this run's start, which the next run reads.
  const runStart = resume ? await read(databaseNow(db)) : undefined;
  const scanEnd = resume ? await read(resume.lastPosition(db, run)) : undefined;
  const remember = async (position: string[]) => {
    if (run.dryRun) return;
    try {
      await advanceJobPosition(db, job.name, position, runStart);
    } catch (error) {
      // Not remembering only costs the next run a longer read: it starts where it did.
      logger.warn({ position, reason: (error as Error).message }, 'could not remember how far the scan got; the next run reads from the last position it knows');
    }
  };
  return {
    survey,
    remembered,
    async* pages() {
      yield* duePages(db, job.name, run.pageSize);
      if (remembered) {
        const since = new Date((remembered.changesSince?.getTime() ?? 0) - CHANGE_LAG_MS);
        yield* changedPages(db, job, run, since, remembered.position, run.pageSize);
      }
      yield* scanPages(db, job, run, survey, remembered?.position, run.pageSize);
    },
    async settled(page) {
      if (page.source === 'scan' && page.position) await remember(page.position);
    },
    async completed() {
      if (scanEnd) await remember(scanEnd);
    },
  };
}
