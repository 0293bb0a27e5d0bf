import { UTC_TODAY } from '../../database/utc-today.js';
import { defineNotificationJob } from '../../sweep/notification-job.js';
import { getWorkspaceDigests, surveyWorkspaceDigests, type WorkspaceDigest } from './workspace-digest.dao.js';

/** One digest per workspace with delayed todos, per run date, with the count as the run found it. */
export const sendWorkspaceDigests = defineNotificationJob<WorkspaceDigest>({
  name: 'send-workspace-digests',
  description: 'Sends one digest per workspace that has delayed todos, once per workspace and run date.',
  runDate: 'the day of the digest; todos due before it are delayed',
  items: 'workspaces with delayed todos',
  survey: (db, run) => surveyWorkspaceDigests(db, run.runDate),
  readPage: (db, { run, after, limit }) => getWorkspaceDigests(db, { runDate: run.runDate, afterWorkspaceId: after?.workspaceId, limit }),
  notificationOf: (digest, run) => ({
    key: digest.key, workspaceId: digest.workspaceId, itemId: digest.workspaceId, itemDate: run.runDate,
    message: `Workspace ${digest.workspaceId} has ${digest.delayed} delayed todos`,
  }),
  describe: ({ itemDate }) => ({ runDate: itemDate }),
  // A digest is for its day: once the day (UTC, as run dates are) is over no scheduled run
  // asks for it again.
  itemGone: `d.item_date < ${UTC_TODAY}`,
});
