import { isKnexLockError, KnexLockTakenError, withMigrateLock } from '../../database/migration-lock.js';
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
  async run({ db, logger, signal }) {
    // Any number may start at once: one migrates, the others wait for it, then find nothing to do.
    const done = await withMigrateLock(db, { logger, signal }, async () => {
      try {
        return (await db.migrate.latest(migratorConfig)) as [number, string[]];
      } catch (error) {
        if (isKnexLockError(error)) throw new KnexLockTakenError({ cause: error });
        throw error;
      }
    });
    const [batch, applied] = done ?? [0, []];
    for (const migration of applied) logger.info({ migration, batch }, 'applied migration');
    if (done && applied.length === 0) logger.info('the schema is up to date');
    return { outcome: 'done', counts: { applied: applied.length } };
  },
});
