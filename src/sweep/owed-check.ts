import type { Knex } from 'knex';
import { unreadable, type NotificationPage, type SupersededDelivery } from './item-pages.js';
import type { AnyNotificationJob, Notification, Standing, SweepRun } from './notification-job.js';

/** What the engine does with one owed delivery once its job has said how its item stands. */
export type OwedDecision =
  /** Send it: as first meant, or to the workspace that holds its item now (`movedFrom`: the one first meant). */
  | { send: Notification; movedFrom?: string }
  /** Settle it unsent: what it says is no longer true. */
  | { supersede: string }
  /** Leave it owed, unsent and unclaimed: it is not true yet as of this run's date. */
  | { later: string };

/**
 * The engine's rule, whatever the job: an item that stands in the same workspace gets
 * the notification first meant (the ledger's text: a digest keeps its day's first
 * count); one whose item now belongs to another workspace goes to that workspace, with
 * its text now, and never with the old workspace's token; one whose item no longer
 * stands is superseded, unless an operator forced it, which sends it as first meant.
 */
export function decideOwed(owed: Notification, standing: Standing | undefined, forced: boolean): OwedDecision {
  const noLonger = (reason: string): OwedDecision => (forced ? { send: owed } : { supersede: reason });
  if (!standing) return noLonger('its item was not found');
  if ('reason' in standing) return noLonger(standing.reason);
  if ('notYet' in standing) return forced ? { send: owed } : { later: standing.notYet };
  const now = standing.notification;
  if (now.key !== owed.key) return noLonger(`its notification is now ${now.key}`);
  if (now.workspaceId !== owed.workspaceId) {
    return { send: { ...owed, workspaceId: now.workspaceId, message: now.message }, movedFrom: owed.workspaceId };
  }
  return { send: owed };
}

/**
 * Before a run sends what the ledger owes, asks the job whether each item still stands
 * as it did: one statement per page of owed deliveries (the job's `stillStands`, which
 * reads only that page's items). Pages of new items (scan, changed) are read as they are
 * now and pass through.
 */
export async function* checkOwedPages(db: Knex, job: AnyNotificationJob, run: SweepRun,
  pages: AsyncGenerator<NotificationPage>): AsyncGenerator<NotificationPage> {
  for await (const page of pages) {
    if (page.source !== 'due' || page.notifications.length === 0) {
      yield page;
      continue;
    }
    const standings = await job.stillStands(db, page.notifications, { zones: run.zones }).catch((error: unknown) => {
      throw unreadable(job, error, { runDate: run.runDate, owedFrom: page.notifications[0]?.key });
    });
    const notifications: Notification[] = [];
    const superseded: SupersededDelivery[] = [];
    const notYet: SupersededDelivery[] = [];
    const movedFrom = new Map<string, string>();
    for (const owed of page.notifications) {
      const decision = decideOwed(owed, standings.get(owed.key), page.forced?.has(owed.key) ?? false);
      if ('supersede' in decision) superseded.push({ notification: owed, reason: decision.supersede });
      else if ('later' in decision) notYet.push({ notification: owed, reason: decision.later });
      else {
        notifications.push(decision.send);
        if (decision.movedFrom) movedFrom.set(owed.key, decision.movedFrom);
      }
    }
    yield { ...page, notifications, superseded, notYet, movedFrom };
  }
}
