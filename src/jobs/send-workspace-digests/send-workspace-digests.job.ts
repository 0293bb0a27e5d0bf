import { UTC_TODAY } from '../../database/utc-today.js';
import { defineNotificationJob, type Notification, type OwedDelivery, type Standing } from '../../sweep/notification-job.js';
import { countDelayedNow, getWorkspaceDigests, surveyWorkspaceDigests, type WorkspaceDigest } from './workspace-digest.dao.js';

/** A workspace's digest for a day. */
const digestOf = (digest: WorkspaceDigest, day: string): Notification => ({
  key: digest.key, workspaceId: digest.workspaceId, itemId: digest.workspaceId, itemDate: day,
  message: `Workspace ${digest.workspaceId} has ${digest.delayed} delayed todos`,
});

/**
 * An owed digest stands while its workspace has delayed todos as of the digest's day
 * (its key names both, so it cannot move); it is then sent with the count first meant.
 */
export function digestStanding(owed: OwedDelivery, now: WorkspaceDigest | undefined): Standing {
  if (owed.itemDate === null) return { reason: 'it has no day' };
  if (!now || now.delayed === 0) return { reason: `the workspace has no delayed todos as of ${owed.itemDate} any more` };
  return { notification: digestOf(now, owed.itemDate) };
}

/** One digest per workspace with delayed todos, per run date, with the count as the run found it. */
export const sendWorkspaceDigests = defineNotificationJob<WorkspaceDigest>({
  name: 'send-workspace-digests',
  description: 'Sends one digest per workspace that has delayed todos, once per workspace and run date.',
  runDate: 'the day of the digest; todos due before it are delayed',
  items: 'workspaces with delayed todos',
  survey: (db, run) => surveyWorkspaceDigests(db, run.runDate),
  readPage: (db, { run, after, limit }) => getWorkspaceDigests(db, { runDate: run.runDate, afterWorkspaceId: after?.workspaceId, limit }),
  notificationOf: (digest, run) => digestOf(digest, run.runDate),
  // The digest's day, not the run's: a digest is for its day, whichever run sends it.
  stillStands: async (db, owed) => {
    const dated = owed.filter((delivery) => delivery.itemDate !== null);
    const counts = await countDelayedNow(db, dated.map((delivery) => ({ key: delivery.key, workspaceId: delivery.workspaceId,
      day: delivery.itemDate as string })));
    return new Map(owed.map((delivery) => [delivery.key, digestStanding(delivery, counts.get(delivery.key))]));
  },
  describe: ({ itemDate }) => ({ runDate: itemDate }),
  // A digest is for its day: once the day (UTC, as run dates are) is over no scheduled run
  // asks for it again.
  itemGone: `d.item_date < ${UTC_TODAY}`,
});
