import { approveCommand } from './commands/approve/approve.command.js';
import { consoleCommand } from './console/console.command.js';
import { deliveriesCommand } from './commands/deliveries/deliveries.command.js';
import { migrateJob } from './commands/migrate/migrate.command.js';
import { pauseCommands } from './commands/pause/pause.command.js';
import { pruneCommand } from './commands/prune/prune.command.js';
import { runsCommand } from './commands/runs/runs.command.js';
import { seedJob } from './commands/seed/seed.command.js';
import { sendDelayNotifications } from './jobs/send-delay-notifications/send-delay-notifications.job.js';
import { sendDueSoonReminders } from './jobs/send-due-soon-reminders/send-due-soon-reminders.job.js';
import { sendWorkspaceDigests } from './jobs/send-workspace-digests/send-workspace-digests.job.js';
import type { JobDefinition } from './runner/job.type.js';
import type { AnyNotificationJob } from './sweep/notification-job.js';
import { toJobDefinition } from './sweep/sweep-notifications.js';

/** The notification jobs: one line per job. */
export const notificationJobs: AnyNotificationJob[] = [
  sendDelayNotifications,
  sendDueSoonReminders,
  sendWorkspaceDigests,
];

/** The registry: `sweep --help` lists the jobs in this order, then the operator commands. */
export const jobs: Array<JobDefinition<never>> = [
  ...notificationJobs.map(toJobDefinition),
  deliveriesCommand(notificationJobs),
  runsCommand(notificationJobs),
  ...pauseCommands(notificationJobs.map((job) => job.name)),
  approveCommand(notificationJobs.map((job) => job.name)),
  pruneCommand(notificationJobs),
  consoleCommand(notificationJobs),
  migrateJob,
  seedJob,
] as Array<JobDefinition<never>>;
