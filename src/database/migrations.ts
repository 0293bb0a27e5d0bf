import { readdir } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';

const here = fileURLToPath(import.meta.url);
/** .ts from the sources (tsx, vitest), .js from the compiled dist/: the same as this file. */
const extension = extname(here);
/** migrations/ and seeds/ sit two levels above this file in both layouts. */
const root = resolve(dirname(here), '../..');

type Module = Record<string, unknown>;

/**
 * Lists and imports a folder's modules through our own `import()`, so they load
 * wherever our code loads: under tsx, vitest or compiled, without a loader flag.
 */
function directorySource(folder: string) {
  const directory = join(root, folder);
  return {
    async list(): Promise<string[]> {
      const files = await readdir(directory);
      return files.filter((file) => extname(file) === extension && !file.endsWith(`.d${extension}`)).sort();
    },
    async load(file: string): Promise<Module> {
      return (await import(pathToFileURL(join(directory, file)).href)) as Module;
    },
  };
}

const migrations = directorySource('migrations');
const seeds = directorySource('seeds');

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => migrations.list(),
  // Names without the extension, so the dist/ build and the sources share one history.
  getMigrationName: (file) => file.slice(0, -extension.length),
  getMigration: (file) => migrations.load(file) as unknown as Promise<Knex.Migration>,
};

export const migratorConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/** Names of the migrations not yet applied: a job refuses to run on an old schema. */
export async function getPendingMigrations(db: Knex): Promise<string[]> {
  const [, pending] = (await db.migrate.list(migratorConfig)) as [unknown[], unknown[]];
  return pending.map(String);
}

/** Runs every seed in name order; each must export `seed(knex)`. */
export async function runSeeds(db: Knex): Promise<string[]> {
  const files = await seeds.list();
  for (const file of files) {
    const seed = (await seeds.load(file)).seed as ((knex: Knex) => Promise<void>) | undefined;
    if (typeof seed !== 'function') throw new Error(`seeds/${file} does not export a seed(knex) function`);
    await seed(db);
  }
  return files;
}
