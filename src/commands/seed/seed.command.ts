import { runSeeds } from '../../database/migrations.js';
import { UsageError } from '../../runner/errors.js';
import { defineJob } from '../../runner/job.type.js';

export const seedJob = defineJob<Record<string, never>>({
  name: 'seed',
  description: 'Loads the example todos (refuses to run when NODE_ENV=production).',
  database: 'schema',
  // Local use only: it writes the service's own table, which no sweep role may.
  privileges: { todos: ['SELECT', 'INSERT', 'UPDATE'], knex_migrations: ['SELECT'], knex_migrations_lock: ['SELECT'] },
  recordsRun: () => false,
  async run({ db, logger, config }) {
    if (config.nodeEnv === 'production') {
      throw new UsageError('seed refuses to run when NODE_ENV=production: it writes example data');
    }
    const files = await runSeeds(db);
    logger.info({ seeds: files }, 'loaded the example data');
    return { outcome: 'done', counts: { seeds: files.length } };
  },
});
