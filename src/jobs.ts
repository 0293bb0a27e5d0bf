import type { JobDefinition } from './runner/job.type.js';
import { deliveriesJob } from './commands/deliveries/deliveries.command.js';
import { migrateJob } from './commands/migrate/migrate.command.js';
import { pruneJob } from './commands/prune/prune.command.js';
import { runsJob } from './commands/runs/runs.command.js';
import { seedJob } from './commands/seed/seed.command.js';
import { sendDelayNotificationsJob } from './jobs/send-delay-notifications/send-delay-notifications.command.js';

/** The registry: one line per job. `sweep --help` lists them in this order. */
export const jobs: Array<JobDefinition<never>> = [
  sendDelayNotificationsJob,
  deliveriesJob,
  runsJob,
  pruneJob,
  migrateJob,
  seedJob,
] as Array<JobDefinition<never>>;
