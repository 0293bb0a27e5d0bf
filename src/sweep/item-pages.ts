import type { Knex } from 'knex';
import { describeDatabaseError } from '../database/database.js';
import { describeChangeWindow, type ChangeWindow } from '../ledger/change-window.js';
import { getDueDeliveries } from '../ledger/due-deliveries.js';
import type { SurveyCounts } from '../ledger/undelivered.js';
import { AbortRunError } from '../runner/errors.js';
import type { AnyNotificationJob, Notification, SweepRun } from './notification-job.js';

/** A page of notifications to claim and send, and where it came from. */
export interface NotificationPage {
  /** due: the ledger's own work; changed: items that appeared behind the remembered position; scan: items after it. */
  source: 'due' | 'changed' | 'scan';
  notifications: Notification[];
  /** With resume: the position of the page's last item; a scan page settles it once claimed whole. */
  position?: string[];
  /** due: the keys an operator re-armed with --force, sent even when their item no longer stands. */
  forced?: ReadonlySet<string>;
  /** due, once checked (owed-check.ts): owed deliveries whose item no longer stands, with why; settled unsent. */
  superseded?: SupersededDelivery[];
  /** due, once checked: owed deliveries not true yet as of the run date, with why; left owed for a later run. */
  notYet?: SupersededDelivery[];
  /** due, once checked: key -> the workspace first meant, for those sent to the workspace that holds their item now. */
  movedFrom?: ReadonlyMap<string, string>;
}

/** An owed delivery not sent because what it says is no longer true (or not yet), and why. */
export interface SupersededDelivery {
  notification: Notification;
  reason: string;
}

/**
 * The deliveries the ledger owes the job, a page at a time, in key order: each is
 * visited once per run, even one this run releases and that is due again at once.
 */
export async function* duePages(db: Knex, job: string, pageSize: number): AsyncGenerator<NotificationPage> {
  let afterKey: string | undefined;
  for (;;) {
    const page = await getDueDeliveries(db, { job, afterKey, limit: pageSize }).catch((error: unknown) => {
      throw new AbortRunError(`cannot read the delivery ledger: ${describeDatabaseError(error)}`, { afterKey }, { cause: error });
    });
    const forced = new Set(page.filter((delivery) => delivery.forced).map((delivery) => delivery.key));
    if (page.length > 0) yield { source: 'due', notifications: page, ...(forced.size > 0 ? { forced } : {}) };
    if (page.length < pageSize) return;
    afterKey = page[page.length - 1]!.key;
  }
}

/**
 * The job's items with no delivery yet, a page at a time in its order, after `from` (the
 * remembered position) or from the start; the cursor only moves forward.
 */
export function scanPages(db: Knex, job: AnyNotificationJob, run: SweepRun, survey: SurveyCounts | undefined,
  from: string[] | undefined, pageSize: number): AsyncGenerator<NotificationPage> {
  return itemPages(job, run, 'scan', pageSize, { from },
    (after) => job.readPage(db, { run, survey, after, from, limit: pageSize }));
}

/** What appeared behind the remembered position since the snapshot of the run that settled it: created late, or moved back. */
export async function* changedPages(db: Knex, job: AnyNotificationJob, run: SweepRun, since: ChangeWindow, upTo: string[],
  pageSize: number): AsyncGenerator<NotificationPage> {
  const resume = job.resume;
  if (!resume) return;
  yield* itemPages(job, run, 'changed', pageSize, { ...describeChangeWindow(since), upTo },
    (after) => resume.readChanged(db, { run, since, upTo, after, limit: pageSize }));
}

/** Pages of a job's items from `read`, each after the last item of the one before, until a short page. */
async function* itemPages(job: AnyNotificationJob, run: SweepRun, source: 'scan' | 'changed', pageSize: number,
  context: Record<string, unknown>, read: (after: unknown) => Promise<unknown[]>): AsyncGenerator<NotificationPage> {
  let after: unknown;
  for (;;) {
    const items = await read(after).catch((error: unknown) => {
      throw unreadable(job, error, { runDate: run.runDate, after, ...context });
    });
    if (items.length > 0) {
      yield { source, notifications: items.map((item) => job.notificationOf(item, run)),
        position: job.resume?.positionOf(items[items.length - 1]) };
    }
    if (items.length < pageSize) return;
    after = items[items.length - 1];
  }
}

export function unreadable(job: AnyNotificationJob, error: unknown, context: Record<string, unknown>): AbortRunError {
  return new AbortRunError(`cannot read the ${job.items}: ${describeDatabaseError(error)}`, context, { cause: error });
}
