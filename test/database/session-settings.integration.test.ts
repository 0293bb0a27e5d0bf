import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase, withParallelWorkers } from '../../src/database/database.js';
import { getDelayedTodos } from '../../src/jobs/send-delay-notifications/delayed-todo.dao.js';
import { buildDelayedTodos, insertTodos } from '../support/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** Planner costs that make any scan worth two workers, as a table of millions makes a keyset page look. */
const PARALLEL_LOOKS_CHEAP = [
  'set parallel_setup_cost = 0', 'set parallel_tuple_cost = 0',
  'set min_parallel_table_scan_size = 0', 'set min_parallel_index_scan_size = 0',
];

const planOf = async (db: Knex, sql: string, bindings: readonly unknown[]): Promise<string> => {
  const result = await db.raw(`explain ${sql.replace(/\$\d+/g, '?')}`, bindings as never);
  return (result as { rows: Array<{ 'QUERY PLAN': string }> }).rows.map((row) => row['QUERY PLAN']).join('\n');
};

/** The sweep's own connections to PostgreSQL (embedded PGlite has no workers to start). */
describe.runIf(inject('testDatabase').kind === 'postgres')('the sweep\'s PostgreSQL sessions', () => {
  let database: TestDatabase;
  let db: Knex;
  let pageSql: { sql: string; bindings: readonly unknown[] };

  beforeAll(async () => {
    database = await createTestDatabase();
    await insertTodos(database.db, buildDelayedTodos(300, 3, '2021-03-01'));
    await database.db.raw('analyze todos');
    // One connection, so that the session's settings below hold for every statement.
    db = createDatabase({ kind: 'postgres', url: database.env.DATABASE_URL! }, { poolMax: 1 });
    for (const statement of PARALLEL_LOOKS_CHEAP) await db.raw(statement);
    const seen: Array<{ sql: string; bindings: readonly unknown[] }> = [];
    const collect = (query: { sql: string; bindings?: readonly unknown[] }) => seen.push({ sql: query.sql, bindings: query.bindings ?? [] });
    db.on('query', collect);
    await getDelayedTodos(db, { runDate: '2021-06-01', after: { from: '2021-01-01' }, limit: 100 });
    db.off('query', collect);
    pageSql = seen[0]!;
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.destroy();
  });

  it('plan a page of the scan without parallel workers and without JIT, however cheap workers look', async () => {
    const settings = await db.raw(`select current_setting('max_parallel_workers_per_gather') as workers, current_setting('jit') as jit`);
    expect(settings.rows[0]).toEqual({ workers: '0', jit: 'off' });
    expect(await planOf(db, pageSql.sql, pageSql.bindings)).not.toMatch(/Gather|Parallel/);
  });

  it('let a statement that reads a whole table on purpose use workers', async () => {
    const plan = await withParallelWorkers(db, (trx) => planOf(trx, pageSql.sql, pageSql.bindings));
    expect(plan).toMatch(/Gather/);
    // Only within that transaction.
    expect(await planOf(db, pageSql.sql, pageSql.bindings)).not.toMatch(/Gather/);
  });
});
