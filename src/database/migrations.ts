import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';

const here = fileURLToPath(import.meta.url);

/**
 * Where the migrations live, whether we run from the TypeScript sources (tsx) or from
 * the compiled dist/: both keep migrations/ two levels above this file.
 */
export const migratorConfig: Knex.MigratorConfig = {
  directory: resolve(dirname(here), '../../migrations'),
  loadExtensions: [extname(here)],
  tableName: 'knex_migrations',
};

export const seedConfig: Knex.SeederConfig = {
  directory: resolve(dirname(here), '../../seeds'),
  loadExtensions: [extname(here)],
};

/** Names of the migrations not yet applied: a job refuses to run on an old schema. */
export async function getPendingMigrations(db: Knex): Promise<string[]> {
  const [, pending] = (await db.migrate.list(migratorConfig)) as [unknown[], Array<{ file: string }>];
  return pending.map((migration) => migration.file);
}
