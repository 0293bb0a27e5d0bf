import { clockOf, ENDED_EVERYWHERE_SQL, zoneOf, type RunZones } from '../../sweep/local-due-times.js';
import { defineNotificationJob, type Notification, type OwedDelivery, type Standing } from '../../sweep/notification-job.js';
import { countDelayedNow, getWorkspaceDigests, surveyWorkspaceDigests, type WorkspaceDigest } from './workspace-digest.dao.js';

/** A workspace's digest for its local day. */
const digestOf = (digest: WorkspaceDigest): Notification => ({
  key: digest.key, workspaceId: digest.workspaceId, itemId: digest.workspaceId, itemDate: digest.day,
  message: `Workspace ${digest.workspaceId} has ${digest.delayed} delayed todos`,
});

/**
 * An owed digest stands while its workspace has delayed todos as of the digest's day (its
 * key names both, so it cannot move) and that day has not ended in the workspace's zone;
 * it is then sent with the count first meant. One for a day whose send time has not come
 * in the zone (the workspace moved west), or in a zone PostgreSQL does not know, stays owed.
 */
export function digestStanding(owed: OwedDelivery, now: (WorkspaceDigest & { timeZone: string | null }) | undefined,
  zones: RunZones | undefined): Standing {
  if (owed.itemDate === null) return { reason: 'it has no day' };
  if (!now || now.delayed === 0) return { reason: `the workspace has no delayed todos as of ${owed.itemDate} any more` };
  if (zones) {
    const zone = zoneOf(zones, now.timeZone);
    const clock = clockOf(zones, zone);
    if (!clock) return { notYet: `its workspace's time zone ${JSON.stringify(zone)} cannot be judged by this run` };
    if (owed.itemDate <= clock.lastEnded) return { reason: `its day ${owed.itemDate} has ended in ${zone} (${clock.localDate} there)` };
    if (owed.itemDate > clock.digestFrom) return { notYet: `its send time on ${owed.itemDate} has not come yet in ${zone}` };
  }
  return { notification: digestOf(now) };
}

/** One digest per workspace with delayed todos, per local day of its zone, with the count as the run found it. */
export const sendWorkspaceDigests = defineNotificationJob<WorkspaceDigest>({
  name: 'send-workspace-digests',
  description: 'Sends one digest per workspace that has delayed todos, once per workspace and local day, from the local send time.',
  runDate: 'the day of the digest; todos due before it are delayed',
  items: 'workspaces with delayed todos',
  fallsDue: { daysAfterItemDate: 0, atLocalTime: true },
  localTime: '08:00',
  survey: (db, run) => surveyWorkspaceDigests(db, run.zones),
  readPage: (db, { run, after, limit }) => getWorkspaceDigests(db, { zones: run.zones, afterWorkspaceId: after?.workspaceId, limit }),
  notificationOf: (digest) => digestOf(digest),
  // The digest's day, not the run's: a digest is for its day, whichever run sends it.
  stillStands: async (db, owed, { zones }) => {
    const dated = owed.filter((delivery) => delivery.itemDate !== null);
    const counts = await countDelayedNow(db, dated.map((delivery) => ({ key: delivery.key, workspaceId: delivery.workspaceId,
      day: delivery.itemDate as string })));
    return new Map(owed.map((delivery) => [delivery.key, digestStanding(delivery, counts.get(delivery.key), zones)]));
  },
  describe: ({ itemDate }) => ({ runDate: itemDate }),
  // A digest is for its local day: once that day has ended in every zone on earth no
  // scheduled run asks for it again.
  itemGone: `d.item_date <= ${ENDED_EVERYWHERE_SQL}`,
});
