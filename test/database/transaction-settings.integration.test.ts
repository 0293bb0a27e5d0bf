import type { Knex } from 'knex';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase, withParallelWorkers } from '../../src/database/database.js';
import { getDelayedTodos } from '../../src/jobs/send-delay-notifications/delayed-todo.dao.js';
import { buildDelayedTodos, insertTodos } from '../support/fixtures.js';
import { zonesOn } from '../support/run-zones.js';
import { JOB_FIXTURES } from '../support/job-fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { withAdmin } from '../support/test-database-target.js';
import { useTestbed } from '../support/testbed.js';

/** Planner costs that make any scan worth two workers, as a table of millions makes a keyset page look. */
const PARALLEL_LOOKS_CHEAP = 'set local parallel_setup_cost = 0; set local parallel_tuple_cost = 0; '
  + 'set local min_parallel_table_scan_size = 0; set local min_parallel_index_scan_size = 0';

/** The plan of a statement where workers look cheap: within one transaction, so that it holds behind a pooler too. */
type InTransaction = (work: (trx: Knex.Transaction) => Promise<string>) => Promise<string>;
const planOf = async (db: Knex, sql: string, bindings: readonly unknown[],
  transaction: InTransaction = (work) => db.transaction(work)): Promise<string> =>
  transaction(async (trx) => {
    await trx.raw(PARALLEL_LOOKS_CHEAP);
    const result = await trx.raw(`explain ${sql.replace(/\$\d+/g, '?')}`, bindings as never);
    return (result as { rows: Array<{ 'QUERY PLAN': string }> }).rows.map((row) => row['QUERY PLAN']).join('\n');
  });

/**
 * Sets a database default straight on the server, before anything reaches the database
 * through a pooler, whose server connections would keep the defaults they started with.
 */
const alterDatabase = (url: string, setting: string) => withAdmin((inject('testDatabase') as { adminUrl: string }).adminUrl,
  (admin) => admin.raw(`alter database ${new URL(url).pathname.slice(1)} set ${setting}`));

/** What a connection without the sweep's client sees: the session's own settings. */
const sessionSetting = async (url: string, sql: string): Promise<unknown> => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0];
  } finally {
    await client.end();
  }
};

/**
 * The sweep sets nothing on its sessions (PgBouncer in transaction mode would hand them to
 * others); every transaction sets what it needs. Embedded PGlite has no workers and one
 * connection: this is about a server.
 */
describe.runIf(inject('testDatabase').kind === 'postgres')('the settings every transaction of the sweep runs with', () => {
  let database: TestDatabase;
  let db: Knex;
  let pageSql: { sql: string; bindings: readonly unknown[] };

  beforeAll(async () => {
    database = await createTestDatabase();
    // What a role or a database may have set, which the sweep must not depend on.
    for (const setting of ['jit = on', 'max_parallel_workers_per_gather = 4', 'lock_timeout = 0']) {
      await alterDatabase(database.env.DATABASE_URL!, setting);
    }
    await insertTodos(database.db, buildDelayedTodos(300, 3, '2021-03-01'));
    await database.db.raw('analyze todos');
    db = createDatabase({ kind: 'postgres', url: database.env.DATABASE_URL! }, { poolMax: 1,
      settings: { lockTimeoutMs: 1234, statementTimeoutMs: 5678, longStatementTimeoutMs: 91011, idleInTransactionTimeoutMs: 4321, slowStatementMs: 5000 } });
    const seen: Array<{ sql: string; bindings: readonly unknown[] }> = [];
    const collect = (query: { sql: string; bindings?: readonly unknown[] }) => seen.push({ sql: query.sql, bindings: query.bindings ?? [] });
    db.on('query', collect);
    await getDelayedTodos(db, { zones: zonesOn('2021-06-01'), after: { from: '2021-01-01' }, limit: 100 });
    db.off('query', collect);
    pageSql = seen[0]!;
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.destroy();
  });

  it('set nothing on the session: a plain connection sees the database\'s own settings', async () => {
    expect(await sessionSetting(database.env.DATABASE_URL!, `select current_setting('jit') as jit,
      current_setting('max_parallel_workers_per_gather') as workers`)).toEqual({ jit: 'on', workers: '4' });
  });

  it('run every statement with the bounds, no workers, no JIT and ISO dates, whatever the database says', async () => {
    const settings = await db.raw(`select current_setting('max_parallel_workers_per_gather') as workers, current_setting('jit') as jit,
      current_setting('lock_timeout') as lock, current_setting('statement_timeout') as statement,
      current_setting('idle_in_transaction_session_timeout') as idle, current_setting('DateStyle') as datestyle`);
    expect(settings.rows[0]).toEqual({ workers: '0', jit: 'off', lock: '1234ms', statement: '5678ms', idle: '4321ms', datestyle: 'ISO, YMD' });
    // A knex transaction gets them with its BEGIN.
    const inTransaction = await db.transaction((trx) => trx.raw(`select current_setting('lock_timeout') as lock, current_setting('jit') as jit`));
    expect(inTransaction.rows[0]).toEqual({ lock: '1234ms', jit: 'off' });
  });

  it('never leave a transaction open: the server ends one left idle past its bound', async () => {
    const short = createDatabase({ kind: 'postgres', url: database.env.DATABASE_URL! }, { poolMax: 1,
      settings: { lockTimeoutMs: 1000, statementTimeoutMs: 5000, longStatementTimeoutMs: 5000, idleInTransactionTimeoutMs: 300, slowStatementMs: 5000 } });
    const trx = await short.transaction();
    try {
      await trx.raw('select 1');
      await new Promise((resolve) => setTimeout(resolve, 800));
      // The server ended the session: pg reports the connection as lost.
      await expect(trx.raw('select 1')).rejects.toThrow(/connection error|terminat/i);
    } finally {
      await trx.rollback().catch(() => undefined);
    }
    try {
      // The pool replaces the connection: the next statement runs.
      expect((await short.raw('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await short.destroy();
    }
  });

  it('plan a page of the scan without parallel workers, however cheap workers look', async () => {
    expect(await planOf(db, pageSql.sql, pageSql.bindings)).not.toMatch(/Gather|Parallel/);
  });

  it('let a statement that reads a whole table on purpose use workers, under the longer bound', async () => {
    const plan = await planOf(db, pageSql.sql, pageSql.bindings, (work) => withParallelWorkers(db, work));
    expect(plan).toMatch(/Gather/);
    expect((await withParallelWorkers(db, (trx) => trx.raw(`select current_setting('statement_timeout') as statement`))).rows[0])
      .toEqual({ statement: '91011ms' });
    // Only within that transaction.
    expect(await planOf(db, pageSql.sql, pageSql.bindings)).not.toMatch(/Gather/);
  });
});

describe.runIf(inject('testDatabase').kind === 'postgres')('a database whose DateStyle is not ISO', () => {
  const testbed = useTestbed();

  beforeAll(() => alterDatabase(testbed.database.env.DATABASE_URL!, `datestyle = 'SQL, DMY'`));

  it('is what a plain connection sees', async () => {
    expect(await sessionSetting(testbed.database.env.DATABASE_URL!, `select '2022-06-03'::date::text as d`)).toEqual({ d: '03/06/2022' });
  });

  it.each(JOB_FIXTURES)('$job: keys and dates stay YYYY-MM-DD', async (fixture) => {
    const expected = await fixture.seed(testbed.database.db, 6, 2);
    const run = await runSweep([fixture.job, ...fixture.args], { database: testbed.database, servicesUrl: testbed.mock.url });

    expect(run.exitCode).toBe(0);
    const sent = testbed.mock.journal().filter((entry) => entry.endpoint === 'notify');
    expect(sent.map((entry) => entry.key).sort()).toEqual(expected.map((n) => n.key));
    for (const key of sent.map((entry) => entry.key)) expect(key).toMatch(/:\d{4}-\d{2}-\d{2}$/);
    // As the runner's own connections read them back.
    const listed = await runSweep(['deliveries', '--json'], { database: testbed.database });
    const rows = listed.output.split('\n').filter((line) => line.startsWith('{') && !line.includes('"level"'))
      .map((line) => JSON.parse(line) as { itemDate?: string; item_date?: string });
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.itemDate ?? row.item_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
