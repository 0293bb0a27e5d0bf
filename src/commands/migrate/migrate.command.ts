import { migratorConfig } from '../../database/migrations.js';
import { defineJob } from '../../runner/job.type.js';

export const migrateJob = defineJob<Record<string, never>>({
  name: 'migrate',
  description: 'Applies the database migrations that are not applied yet.',
  database: 'connection',
  // A migration may fill a column or build an index over a whole table.
  longStatements: true,
  recordsRun: () => false,
  interruptedNote: 'the migration in progress was rolled back (or, for an index built concurrently, may be left invalid); run sweep migrate again',
  async run({ db, logger }) {
    const [batch, applied] = (await db.migrate.latest(migratorConfig)) as [number, string[]];
    for (const migration of applied) logger.info({ migration, batch }, 'applied migration');
    if (applied.length === 0) logger.info('the schema is up to date');
    return { outcome: 'done', counts: { applied: applied.length } };
  },
});
