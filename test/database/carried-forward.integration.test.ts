import { readdirSync } from 'node:fs';
import knexModule from 'knex';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDatabase } from '../../src/database/database.js';
import { migratorConfig } from '../../src/database/migrations.js';
import { createEmptyDatabase, todoServiceTableSql, type EmptyDatabase } from '../support/empty-database.js';
import { runSweep } from '../support/run-sweep.js';
import type { TestDatabase } from '../support/test-database.js';

const MIGRATIONS = readdirSync(new URL('../../migrations', import.meta.url)).filter((file) => file.endsWith('.ts'))
  .map((file) => file.slice(0, -'.ts'.length)).sort();

/**
 * An upgrade from every earlier schema: a deployment that stopped after each migration
 * (its release's last) is carried forward by this release's `sweep migrate`, todos and
 * what the jobs wrote kept; and one that got past the first migration by hand, as the
 * docs used to make people do (a row in knex_migrations and the index made by hand).
 */
describe.runIf(inject('testDatabase').kind === 'postgres')('migrate carries forward every earlier schema', () => {
  let database: EmptyDatabase | undefined;
  afterEach(async () => { await database?.destroy(); database = undefined; });

  const migrate = (db: EmptyDatabase) => runSweep(['migrate'], { database: { env: { DATABASE_URL: db.url } } as unknown as TestDatabase });
  const applied = async (db: EmptyDatabase) => (await db.admin('knex_migrations').orderBy('id').pluck('name')) as string[];

  it.each(MIGRATIONS.slice(0, -1).map((name, index) => [index + 1, name] as const))(
    'from the schema after %i migration(s) (%s)', async (steps) => {
      database = await createEmptyDatabase('sweep_forward');
      const db = createDatabase({ kind: 'postgres', url: database.url });
      try {
        for (let i = 0; i < steps; i += 1) await db.migrate.up(migratorConfig);
      } finally {
        await db.destroy();
      }
      await database.admin.raw(`insert into todos (id, workspace_id, due_date)
        select gen_random_uuid(), gen_random_uuid(), date '2020-01-01' + i from generate_series(1, 20) i`);

      const run = await migrate(database);
      expect(run.logs.filter((line) => line.level === 'error')).toEqual([]);
      expect(run.exitCode).toBe(0);
      expect(await applied(database)).toEqual(MIGRATIONS);
      expect((await database.admin('todos').count<Array<{ count: string }>>('* as count'))[0]!.count).toBe('20');
    });

  it('from a todo service\'s database that got past the first migration by hand', async () => {
    database = await createEmptyDatabase('sweep_forward');
    await database.admin.raw(todoServiceTableSql());
    await database.admin.raw('create index todos_due_date_id_idx on todos (due_date, id)');
    const admin = knexModule.knex({ client: 'pg', connection: database.url, pool: { min: 0, max: 1 } });
    try {
      await admin.migrate.list(migratorConfig);
    } finally {
      await admin.destroy();
    }
    await database.admin('knex_migrations').insert({ name: MIGRATIONS[0], batch: 1, migration_time: new Date() });

    const run = await migrate(database);
    expect(run.exitCode).toBe(0);
    expect(await applied(database)).toEqual(MIGRATIONS);
  });
});
