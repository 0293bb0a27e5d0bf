import { setTimeout as sleep } from 'node:timers/promises';
import knexModule, { type Knex } from 'knex';
import { createDatabase } from '../../src/database/database.js';
import { migratorConfig } from '../../src/database/migrations.js';
import { databaseUrl } from '../support/test-database-target.js';

/**
 * The bench's own database on the user's server: created, migrated with the project's
 * migrator, dropped at the end. The admin connection (to DATABASE_URL's database) only
 * runs CREATE/DROP DATABASE and reads pg_stat_database / pg_stat_activity, never a table.
 */
export interface BenchDatabase {
  name: string;
  /** DATABASE_URL for the sweep processes. */
  url: string;
  /** Runs `work` on a fresh pool of the bench database, closed afterwards so no backend of ours lingers. */
  use<T>(work: (db: Knex) => Promise<T>): Promise<T>;
  /** Empties the ledger and the run history: the next sweep starts from nothing sent. */
  resetLedger(): Promise<void>;
  /** Transactions committed or rolled back in the bench database so far, once its clients are gone. */
  settledTransactions(): Promise<number>;
  serverVersion: string;
  /** The server's autovacuum setting: off, nothing ever analyzes the ledger, and plans depend on it. */
  autovacuum: string;
  drop(): Promise<void>;
}

/** A connection to the database named in DATABASE_URL, for CREATE/DROP DATABASE and statistics. */
export function connectAdmin(adminUrl: string): Knex {
  const quiet = () => undefined;
  return knexModule.knex({ client: 'pg', connection: { connectionString: adminUrl, connectionTimeoutMillis: 10_000 },
    pool: { min: 0, max: 1 }, acquireConnectionTimeout: 15_000,
    // The bench reports a failure as one line; knex would print its own stack first.
    log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet } });
}

/**
 * `onCreated` is told as soon as the database exists, so that an interruption from then on
 * drops it. Migrated to the latest migration, or with `migrateBefore` only up to the one
 * before that migration (the schema a deployment has before it upgrades).
 */
export async function createBenchDatabase(admin: Knex, adminUrl: string, name: string, onCreated: () => void,
  migrateBefore?: string): Promise<BenchDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  await admin.raw(`create database ${name}`);
  onCreated();
  const url = databaseUrl(adminUrl, name);
  let dropped = false;

  const use = async <T>(work: (db: Knex) => Promise<T>): Promise<T> => {
    const db = createDatabase({ kind: 'postgres', url }, { poolMax: 2 });
    try {
      return await work(db);
    } finally {
      await db.destroy();
    }
  };

  const clientBackends = async (): Promise<number> => {
    const row = await admin.first<{ n: number }>(admin.raw('count(*)::int as n'))
      .from('pg_stat_activity').where({ datname: name, backend_type: 'client backend' });
    return row?.n ?? 0;
  };

  const transactions = async (): Promise<number> => {
    // A fresh statistics snapshot each read: the default 'cache' consistency keeps one per transaction.
    await admin.raw('select pg_stat_clear_snapshot()');
    const row = await admin.first<{ n: string }>(admin.raw('(xact_commit + xact_rollback)::text as n'))
      .from('pg_stat_database').where({ datname: name });
    return Number(row?.n ?? 0);
  };

  const database: BenchDatabase = {
    name,
    url,
    use,
    serverVersion: await setting(admin, 'server_version'),
    autovacuum: await setting(admin, 'autovacuum'),
    resetLedger: () => use(async (db) => {
      // And the position its runs remembered: with a ledger emptied behind it, the next
      // sweep would find every todo through the change window instead of its scan.
      await db.raw('truncate deliveries, job_runs, job_positions');
    }),
    async settledTransactions() {
      // A backend flushes its counts when it exits; wait for every client to be gone,
      // then for the counter to stop moving.
      const deadline = Date.now() + 10_000;
      while ((await clientBackends()) > 0 && Date.now() < deadline) await sleep(50);
      let last = await transactions();
      for (let stableReads = 0; stableReads < 2 && Date.now() < deadline;) {
        await sleep(100);
        const now = await transactions();
        stableReads = now === last ? stableReads + 1 : 0;
        last = now;
      }
      return last;
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin.raw(`drop database if exists ${name} with (force)`);
    },
  };
  try {
    await use((db) => (migrateBefore === undefined ? db.migrate.latest(migratorConfig)
      : db.migrate.before({ ...migratorConfig, name: migrateBefore })));
  } catch (error) {
    await database.drop().catch(() => undefined);
    throw error;
  }
  return database;
}

async function setting(admin: Knex, name: string): Promise<string> {
  const result = await admin.raw<{ rows: Array<{ value: string }> }>('select current_setting(?) as value', [name]);
  return result.rows[0]?.value ?? '';
}
