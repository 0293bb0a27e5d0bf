import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createEmbeddedDatabase } from '../../../src/database/database.js';
import { migratorConfig } from '../../../src/database/migrations.js';
import { createEmptyDatabase, todoServiceTableSql, type EmptyDatabase } from '../../support/empty-database.js';
import { runSweep } from '../../support/run-sweep.js';
import { startSweepProcess, waitFor } from '../../support/sweep-process.js';
import type { TestDatabase } from '../../support/test-database.js';

const MIGRATIONS = readdirSync(new URL('../../../migrations', import.meta.url)).filter((file) => file.endsWith('.ts')).length;
const onServer = inject('testDatabase').kind === 'postgres';

/** `sweep migrate` started many times at once, and after one killed while it held knex's lock: real processes. */
describe.runIf(onServer)('migrate, many at once and after a killed one', () => {
  let database: EmptyDatabase | undefined;
  afterEach(async () => { await database?.destroy(); database = undefined; });

  const appliedMigrations = async (db: EmptyDatabase) =>
    (await db.admin('knex_migrations').select<Array<{ name: string }>>('name')).map((row) => row.name);

  it('three at once on an empty database: every one exits 0 and each migration is applied once', async () => {
    database = await createEmptyDatabase('sweep_migrate');
    const migrates = Array.from({ length: 3 }, () => startSweepProcess(['migrate'], { DATABASE_URL: database!.url }));
    const exits = await Promise.all(migrates.map((migrate) => migrate.exited));
    expect({ exits, errors: migrates.flatMap((migrate) => migrate.logs().filter((line) => line.level === 'error')) })
      .toEqual({ exits: [0, 0, 0], errors: [] });
    const applied = await appliedMigrations(database);
    expect(applied).toHaveLength(MIGRATIONS);
    expect(new Set(applied).size).toBe(MIGRATIONS);
    // Those that came second found the work done, and said so.
    const upToDate = migrates.filter((migrate) => migrate.logs().some((line) => line.msg === 'the schema is up to date'));
    const applying = migrates.filter((migrate) => migrate.logs().some((line) => line.msg === 'applied migration'));
    expect(applying).toHaveLength(1);
    expect(upToDate).toHaveLength(2);
  }, 120_000);

  it('a migrate killed while it holds knex\'s lock: the next one releases it, says so and finishes the migrations', async () => {
    database = await createEmptyDatabase('sweep_migrate');
    await database.admin.raw(todoServiceTableSql());
    // A long report on todos: the first migration's concurrent index build waits for it.
    const report = await database.admin.transaction();
    await report.raw('lock table todos in share update exclusive mode');
    const first = startSweepProcess(['migrate'], { DATABASE_URL: database.url });
    const db = database;
    await waitFor(async () => {
      const waiting = await db.admin.raw(`select 1 from pg_stat_activity where datname = current_database()
        and query ilike 'create index concurrently%' and wait_event_type = 'Lock'`);
      return waiting.rows.length > 0;
    }, 60_000, 'the first migrate to wait on its index build');
    expect(await db.admin('knex_migrations_lock').select('is_locked')).toEqual([{ is_locked: 1 }]);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(137);
    await report.rollback();
    // The killed migrate's statement ends on its own once it can run; wait for its backend to go.
    await waitFor(async () => (await db.admin.raw(`select 1 from pg_stat_activity where datname = current_database()
      and pid <> pg_backend_pid() and backend_type = 'client backend' and state <> 'idle'`)).rows.length === 0, 30_000, 'the killed migrate\'s backends to end');
    expect(await db.admin('knex_migrations_lock').select('is_locked')).toEqual([{ is_locked: 1 }]);

    const next = startSweepProcess(['migrate'], { DATABASE_URL: database.url });
    expect(await next.exited).toBe(0);
    expect(next.logs().filter((line) => line.level === 'warn').map((line) => line.msg)).toEqual([
      'knex\'s migration lock (knex_migrations_lock.is_locked = 1) was left taken by a migrate that stopped while it held it, '
      + 'and no other migrate runs: released it; the migrations it had not finished run now',
    ]);
    expect(await appliedMigrations(database)).toHaveLength(MIGRATIONS);
    const invalid = await database.admin.raw('select indexrelid::regclass::text as name from pg_index where not indisvalid');
    expect(invalid.rows).toEqual([]);
    expect(await database.admin('knex_migrations_lock').select('is_locked')).toEqual([{ is_locked: 0 }]);
  }, 120_000);

  it('knex\'s lock held by a migrate that does not take sweep\'s lock: exit 75 and the one line to run', async () => {
    database = await createEmptyDatabase('sweep_migrate');
    const db = database;
    // An older migrate at work, one that takes knex's lock in the transaction it migrates in.
    await runSweep(['migrate'], { database: { env: { DATABASE_URL: db.url } } as unknown as TestDatabase });
    await db.admin('knex_migrations').where('name', 'like', '20261204000400%').delete();
    const older = await db.admin.transaction();
    try {
      await older('knex_migrations_lock').update({ is_locked: 1 });
      const run = await runSweep(['migrate'], {
        database: { env: { DATABASE_URL: db.url, SWEEP_LOCK_TIMEOUT_MS: '500' } } as unknown as TestDatabase,
      });
      expect(run.exitCode).toBe(75);
      expect(run.logs.filter((line) => line.level === 'error').map((line) => line.msg)).toEqual([
        'knex\'s migration lock is taken by a migrate that does not hold sweep\'s lock (an older sweep, or knex\'s CLI): '
        + 'run sweep migrate again once it has finished; if none runs, release it with: UPDATE knex_migrations_lock SET is_locked = 0;',
      ]);
    } finally {
      await older.rollback();
    }
  });
});

describe.runIf(!onServer)('migrate on the embedded database', () => {
  it('releases knex\'s lock left taken by a migrate that was killed (one process at a time: the data directory\'s lock)', async () => {
    const db = createEmbeddedDatabase();
    try {
      await db.migrate.latest(migratorConfig);
      await db('knex_migrations_lock').update({ is_locked: 1 });
      const run = await runSweep(['migrate'], { database: { env: {}, injected: db } as unknown as TestDatabase });
      expect(run.exitCode).toBe(0);
      expect(run.logs.filter((line) => line.level === 'warn').map((line) => line.msg)).toEqual([
        expect.stringMatching(/^knex's migration lock \(knex_migrations_lock.is_locked = 1\) was left taken/)]);
      expect(await db('knex_migrations_lock').select('is_locked')).toEqual([{ is_locked: 0 }]);
    } finally {
      await db.destroy();
    }
  });
});
