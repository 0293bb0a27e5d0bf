import type { JobDefinition } from './runner/job.type.js';
import { deliveriesJob } from './deliveries/deliveries.command.js';
import { migrateJob } from './migrate/migrate.command.js';
import { pruneJob } from './prune/prune.command.js';
import { runsJob } from './runs/runs.command.js';
import { seedJob } from './seed/seed.command.js';
import { sendDelayNotificationsJob } from './send-delay-notifications/send-delay-notifications.command.js';

/** The registry: one line per job. `sweep --help` lists them in this order. */
export const jobs: Array<JobDefinition<never>> = [
  sendDelayNotificationsJob,
  deliveriesJob,
  runsJob,
  pruneJob,
  migrateJob,
  seedJob,
] as Array<JobDefinition<never>>;
