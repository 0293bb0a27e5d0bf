import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createEmbeddedDatabase } from '../../src/database/database.js';
import { createEmptyDatabase, todoServiceTableSql, type EmptyDatabase } from '../support/empty-database.js';
import { runSweep } from '../support/run-sweep.js';
import type { TestDatabase } from '../support/test-database.js';
import { withAdmin } from '../support/test-database-target.js';

const onServer = inject('testDatabase').kind === 'postgres';
const serverOnly = describe.runIf(onServer);

const errorsOf = (run: { logs: Array<{ level: string; msg: string }> }) => run.logs.filter((line) => line.level === 'error').map((line) => line.msg);

/** `sweep migrate` into a database where the todo service already keeps its todos. */
serverOnly('migrate into the todo service\'s own todos', () => {
  let database: EmptyDatabase | undefined;
  const owner = `todo_service_${randomUUID().replaceAll('-', '').slice(0, 8)}`;
  const migrator = `${owner}_migrator`;
  afterEach(async () => {
    await database?.destroy();
    await withAdmin((inject('testDatabase') as { adminUrl: string }).adminUrl, async (server) => {
      for (const role of [migrator, owner]) await server.raw(`drop role if exists ${role}`);
    });
  });

  const migrateAs = (role: string) => runSweep(['migrate'], {
    database: { env: { DATABASE_URL: database!.urlAs(role) } } as unknown as TestDatabase,
  });

  async function todoServiceDatabase(columns?: Parameters<typeof todoServiceTableSql>[0]): Promise<EmptyDatabase> {
    const db = await createEmptyDatabase('sweep_existing');
    database = db;
    await db.admin.raw(`create role ${owner}`);
    await db.admin.raw(`create role ${migrator} login`);
    await db.admin.raw(`grant usage, create on schema public to ${migrator}`);
    await db.admin.raw(todoServiceTableSql(columns));
    await db.admin.raw(`alter table todos owner to ${owner}`);
    if (columns?.workspace_id !== '') {
      await db.admin.raw(`insert into todos (workspace_id, due_date, title)
        select gen_random_uuid(), date '2020-01-01' + (i % 30), 'todo ' || i from generate_series(1, 500) i`);
    }
    return db;
  }

  it('adds only what sweep needs to an existing, populated todos owned by another role, and leaves its rows', async () => {
    const db = await todoServiceDatabase();
    await db.admin.raw(`grant ${owner} to ${migrator}`);
    const before = await db.admin.raw(`select id, workspace_id, due_date::text, title, done from todos order by id`);

    const run = await migrateAs(migrator);
    expect(errorsOf(run)).toEqual([]);
    expect(run.exitCode).toBe(0);

    const after = await db.admin.raw(`select id, workspace_id, due_date::text, title, done from todos order by id`);
    expect(after.rows).toEqual(before.rows);
    const columns = await db.admin.raw(`select column_name from information_schema.columns where table_name = 'todos' order by ordinal_position`);
    expect(columns.rows.map((row: { column_name: string }) => row.column_name))
      .toEqual(['id', 'workspace_id', 'due_date', 'title', 'done', 'created_at', 'changed_at', 'changed_xid']);
    const indexes = await db.admin.raw(`select indexname from pg_indexes where tablename = 'todos' order by indexname`);
    expect(indexes.rows.map((row: { indexname: string }) => row.indexname)).toEqual([
      'todos_changed_at_idx', 'todos_changed_xid_idx', 'todos_due_date_id_idx', 'todos_pkey', 'todos_workspace_id_due_date_idx']);
    const triggers = await db.admin.raw(`select tgname from pg_trigger where tgrelid = 'todos'::regclass and not tgisinternal order by tgname`);
    expect(triggers.rows.map((row: { tgname: string }) => row.tgname)).toEqual(['todos_due_date_moved', 'todos_inserted']);
    const owners = await db.admin.raw(`select tableowner from pg_tables where tablename = 'todos'`);
    expect(owners.rows).toEqual([{ tableowner: owner }]);

    // The service's writes go on as before, now stamped by sweep's triggers.
    await db.admin.raw(`insert into todos (workspace_id, due_date, title) values (gen_random_uuid(), '2021-01-01', 'new')`);
    const stamped = await db.admin.raw(`select changed_at is not null and changed_xid is not null as stamped from todos where title = 'new'`);
    expect(stamped.rows).toEqual([{ stamped: true }]);

    const again = await migrateAs(migrator);
    expect(again.exitCode).toBe(0);
    expect(again.logs.map((line) => line.msg)).toContain('the schema is up to date');
  });

  it('refuses, exit 64 and one line, a todos whose columns sweep reads have other types, and changes nothing', async () => {
    const db = await todoServiceDatabase({ id: 'id bigint generated always as identity primary key', due_date: 'due_date timestamptz' });
    await db.admin.raw(`grant ${owner} to ${migrator}`);
    const run = await migrateAs(migrator);
    expect(run.exitCode).toBe(64);
    expect(errorsOf(run)).toEqual([
      'todos cannot be swept as it is: todos.id is bigint, not uuid, todos.due_date is timestamp with time zone, not date '
      + '(sweep reads id uuid, workspace_id uuid, due_date date; docs/deployment.md#what-sweep-needs-of-todos)',
    ]);
    const indexes = await db.admin.raw(`select indexname from pg_indexes where tablename = 'todos'`);
    expect(indexes.rows).toEqual([{ indexname: 'todos_pkey' }]);
  });

  it('names a missing column', async () => {
    const db = await todoServiceDatabase({ workspace_id: '' });
    await db.admin.raw(`grant ${owner} to ${migrator}`);
    const run = await migrateAs(migrator);
    expect(run.exitCode).toBe(64);
    expect(errorsOf(run)[0]).toMatch(/^todos cannot be swept as it is: it has no column workspace_id \(uuid\) \(sweep reads/);
  });

  it('refuses a migrator that is not a member of the role owning todos, naming the GRANT, exit 64', async () => {
    await todoServiceDatabase();
    const run = await migrateAs(migrator);
    expect(run.exitCode).toBe(64);
    expect(errorsOf(run)).toEqual([
      `the role ${migrator} cannot add sweep's index and triggers to todos, which ${owner} owns: GRANT ${owner} TO ${migrator}; (see deploy/postgres/roles.sql)`,
    ]);
  });
});

describe('migrate creates todos where there is none', () => {
  it.runIf(!onServer)('on the embedded database, as the demo starts', async () => {
    const db = createEmbeddedDatabase();
    try {
      const run = await runSweep(['migrate'], { database: { env: {}, injected: db } as unknown as TestDatabase });
      expect(run.exitCode).toBe(0);
      const columns = await db.raw(`select column_name from information_schema.columns where table_name = 'todos' order by ordinal_position`);
      expect(columns.rows.map((row: { column_name: string }) => row.column_name))
        .toEqual(['id', 'workspace_id', 'name', 'assignee', 'due_date', 'changed_at', 'changed_xid']);
    } finally {
      await db.destroy();
    }
  });

  it.runIf(!onServer)('and refuses an embedded todos whose due date is text', async () => {
    const db = createEmbeddedDatabase();
    try {
      await db.raw('create table todos (id uuid primary key, workspace_id uuid, due_date text)');
      const run = await runSweep(['migrate'], { database: { env: {}, injected: db } as unknown as TestDatabase });
      expect(run.exitCode).toBe(64);
      expect(errorsOf(run)[0]).toMatch(/^todos cannot be swept as it is: todos\.due_date is text, not date/);
    } finally {
      await db.destroy();
    }
  });
});

describe('docs/deployment.md', () => {
  it('names every column, function, trigger and index migrate adds to todos, as the test above finds them', async () => {
    const { readFileSync } = await import('node:fs');
    const section = readFileSync(new URL('../../docs/deployment.md', import.meta.url), 'utf8').split('### What sweep adds to todos')[1]!.split('**What they cost')[0]!;
    const named = [...section.matchAll(/^\| (column|function|trigger|index) \| `([a-z_]+)/gm)].map((match) => match[2]);
    expect(named).toEqual(['changed_at', 'changed_xid', 'sweep_todo_changed', 'todos_inserted', 'todos_due_date_moved',
      'todos_due_date_id_idx', 'todos_workspace_id_due_date_idx', 'todos_changed_at_idx', 'todos_changed_xid_idx']);
  });
});
