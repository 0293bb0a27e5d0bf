import type { Knex } from 'knex';
import { currentSnapshot, type ChangeSnapshot } from '../ledger/change-window.js';
import { advanceJobPosition, getJobPosition, recordChangesRead, type JobPosition } from '../ledger/job-positions.js';
import type { SurveyCounts } from '../ledger/undelivered.js';
import type { Logger } from '../logging/logger.js';
import { changedPages, duePages, scanPages, unreadable, type NotificationPage } from './item-pages.js';
import type { AnyNotificationJob, SweepRun } from './notification-job.js';

/** What one run reads, in order, and how it remembers how far it got. */
export interface RunPlan {
  survey: SurveyCounts | undefined;
  /** Where the scan starts: the position earlier runs settled (resume), if any. */
  remembered: JobPosition | undefined;
  /** The pages, in order; `{ count: true }` reads them to count (the brake), remembering nothing, so the send reads them again. */
  pages(read?: { count: boolean }): AsyncGenerator<NotificationPage>;
  /**
   * The pages a count read (`pages({ count: true })`, owed ones checked), sent as they were
   * read instead of reading them again, remembering what the send would have.
   */
  replay(pages: readonly NotificationPage[]): AsyncGenerator<NotificationPage>;
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
export async function planRun(db: Knex, job: AnyNotificationJob, run: SweepRun, logger: Logger, runId?: string): Promise<RunPlan> {
  const read = <T>(what: Promise<T>) => what.catch((error: unknown) => { throw unreadable(job, error, { runDate: run.runDate }); });
  const survey = job.survey ? await read(job.survey(db, run) as Promise<SurveyCounts>) : undefined;
  const resume = job.resume;
  const remembered = resume ? await read(getJobPosition(db, job.name)) : undefined;
  // So that prune keeps what this run may still read as changed, whatever the job's
  // position says by then (until it is written, prune keeps it all).
  if (runId && remembered && 'snapshot' in remembered.changes) await read(recordChangesRead(db, runId, remembered.changes.snapshot));
  // Taken before anything the run remembers is read: whatever a transaction it cannot see
  // writes (one still open now, however long, or one that begins later) the next run
  // reads as changed. What it can see, every statement of this run sees.
  const snapshot: ChangeSnapshot | undefined = resume ? await read(currentSnapshot(db)) : undefined;
  const capAsOfRun = resume?.positionCap ? await read(resume.positionCap(db, run)) : undefined;
  // Never behind what is remembered already: all of that has a delivery, whatever the cap.
  const cap = capAsOfRun && remembered && comparePositions(remembered.position, capAsOfRun) > 0 ? remembered.position : capAsOfRun;
  const scanEnd = resume ? await read(resume.lastPosition(db, run)) : undefined;
  const remember = async (settled: string[]) => {
    if (run.dryRun || !snapshot) return;
    const position = cap && comparePositions(cap, settled) < 0 ? cap : settled;
    try {
      await advanceJobPosition(db, job.name, position, snapshot);
    } catch (error) {
      // Not remembering only costs the next run a longer read: it starts where it did.
      logger.warn({ position, reason: (error as Error).message }, 'could not remember how far the scan got; the next run reads from the last position it knows');
    }
  };
  const changesClaimed = async () => {
    if (remembered) await remember(remembered.position);
  };
  return {
    survey,
    remembered,
    async* replay(pages) {
      let changesDone = false;
      for (const page of pages) {
        if (!changesDone && page.source === 'scan') {
          changesDone = true;
          await changesClaimed();
        }
        yield page;
      }
      if (!changesDone) await changesClaimed();
    },
    async* pages(read) {
      yield* duePages(db, job.name, run.pageSize);
      if (remembered) {
        yield* changedPages(db, job, run, remembered.changes, remembered.position, run.pageSize);
        if (read?.count) {
          yield* scanPages(db, job, run, survey, remembered.position, run.pageSize);
          return;
        }
        // Every changed page was claimed whole (a stopping run leaves the loop before
        // asking for more): what this snapshot sees behind the position has a delivery,
        // so the next run need not read those changes again, even if this one stops
        // before its scan settles anything.
        await changesClaimed();
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

/** Orders two positions as PostgreSQL orders text[] (element by element, by code point for ASCII text). */
export function comparePositions(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}
