import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import knexModule, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startMockServer, type MockServer } from '../../mockserver/mock-server.js';
import { createDatabase } from '../../src/database/database.js';
import { call, OPERATOR, startTestConsole } from '../support/console-server.js';
import { createEmptyDatabase, todoServiceTableSql, type EmptyDatabase } from '../support/empty-database.js';
import { JOB_FIXTURES } from '../support/job-fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { startSweepProcess } from '../support/sweep-process.js';
import { withAdmin } from '../support/test-database-target.js';
import type { TestDatabase } from '../support/test-database.js';

const root = new URL('../../', import.meta.url);
/** deploy/postgres/roles.sql's two parts, cut by the very commands docs/deployment.md gives (test/docs/roles-sql.test.ts). */
const part = (command: string) => execFileSync('bash', ['-c', command], { cwd: root, encoding: 'utf8' });
const ROLES_PART = part(`sed '/^-- Part 2/,$d' deploy/postgres/roles.sql`);
const GRANTS_PART = part(`sed -n '/^-- Part 2/,$p' deploy/postgres/roles.sql`);

interface RoleNames { migrator: string; runner: string; owner: string }

/** Runs a part of roles.sql with the roles renamed: roles are the server's, shared by every test database. */
const runPart = (db: Knex, sql: string, names: RoleNames) => {
  const statements = sql.split('\n').filter((line) => !line.startsWith('--')).join('\n')
    .replaceAll('sweep_migrator', names.migrator).replaceAll('sweep_runner', names.runner).replaceAll('todo_service', names.owner)
    .split(';').map((statement) => statement.trim()).filter(Boolean);
  return statements.reduce((done, statement) => done.then(() => db.raw(statement)), Promise.resolve<unknown>(undefined));
};

/**
 * Deployed as docs/deployment.md says, into a todo service's database: a role of the
 * service owns a populated todos; roles.sql's part 1 as the superuser; `migrate` as the
 * migrator, twice at once (real processes); part 2 as the migrator; then every job, every
 * operator command and the console's actions as the runner, and a runner missing a grant
 * refused with the GRANT to run. Straight to the server: a pooler's auth file knows only
 * the test's own user, so this file is not in .ci/run's PgBouncer list.
 */
describe.runIf(inject('testDatabase').kind === 'postgres')('the roles in deploy/postgres/roles.sql, in a todo service\'s database', () => {
  const suffix = randomUUID().replaceAll('-', '').slice(0, 8);
  const names: RoleNames = { migrator: `sweep_migrator_${suffix}`, runner: `sweep_runner_${suffix}`, owner: `todo_service_${suffix}` };
  let database: EmptyDatabase;
  let admin: Knex;
  let mock: MockServer;

  const sweep = (role: string, args: string[]) => runSweep(args, {
    database: { env: { DATABASE_URL: database.urlAs(role) } } as unknown as TestDatabase,
    servicesUrl: mock.url,
  });

  beforeAll(async () => {
    database = await createEmptyDatabase('sweep_roles');
    admin = database.admin;
    await admin.raw(`create role ${names.owner}`);
    // The service's own table, with the name and assignee columns the job fixtures write.
    await admin.raw(todoServiceTableSql());
    await admin.raw('alter table todos add column name text, add column assignee text');
    await admin.raw(`alter table todos owner to ${names.owner}`);
    await admin.raw(`insert into todos (workspace_id, due_date, title)
      select gen_random_uuid(), date '2021-01-01' + (i % 30), 'todo ' || i from generate_series(1, 300) i`);
    await runPart(admin, ROLES_PART, names);
    mock = await startMockServer({ port: 0 });
  });
  afterAll(async () => {
    await mock?.close();
    await database?.destroy();
    await withAdmin((inject('testDatabase') as { adminUrl: string }).adminUrl, async (server) => {
      for (const role of [names.runner, names.migrator, names.owner]) await server.raw(`drop role if exists ${role}`);
    });
  });

  it('the migrator migrates it, two at once, and grants the runner what it needs; todos stays the service\'s', async () => {
    const migrates = [1, 2].map(() => startSweepProcess(['migrate'], { DATABASE_URL: database.urlAs(names.migrator) }));
    expect(await Promise.all(migrates.map((migrate) => migrate.exited))).toEqual([0, 0]);
    const migrator = knexModule.knex({ client: 'pg', connection: database.urlAs(names.migrator), pool: { min: 0, max: 1 } });
    try {
      await runPart(migrator, GRANTS_PART, names);
      // Part 2 may be run again, after every upgrade.
      await runPart(migrator, GRANTS_PART, names);
    } finally {
      await migrator.destroy();
    }
    const owners = await admin.raw(`select tablename, tableowner from pg_tables where schemaname = 'public' order by tablename`);
    expect(owners.rows).toEqual(expect.arrayContaining([
      { tablename: 'todos', tableowner: names.owner }, { tablename: 'deliveries', tableowner: names.migrator },
      { tablename: 'console_audit', tableowner: names.migrator }]));
  });

  it.each(JOB_FIXTURES)('the runner runs $job, and it sends every key once', async (fixture) => {
    const expected = await fixture.seed(admin, 8, 2);
    const run = await sweep(names.runner, [fixture.job, ...fixture.args]);
    expect(run.exitCode).toBe(0);
    const keys = mock.journal().filter((entry) => entry.endpoint === 'notify' && entry.outcome === 'accepted')
      .map((entry) => entry.key ?? '').filter((key) => key.startsWith(`${fixture.job}:`));
    // The database is shared by the file's tests: a digest also counts the other jobs' delayed todos.
    expect(keys).toEqual(expect.arrayContaining(expected.map((n) => n.key)));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('the runner runs the operator commands: runs, deliveries and deliveries retry, pause and resume, prune', async () => {
    await admin('deliveries').update({ status: 'dead', last_error: 'for the retry' }).where('key', 'in',
      admin('deliveries').select('key').where({ status: 'sent' }).limit(2));
    for (const args of [
      ['runs'], ['runs', '--json'], ['deliveries', '--status', 'sent'], ['deliveries', 'retry', '--status', 'dead', '--reason', 'least privilege'],
      ['pause', 'send-delay-notifications', '--reason', 'least privilege'], ['resume', 'send-delay-notifications'],
      ['prune', '--older-than', '1d', '--dry-run'], ['prune', '--older-than', '1d'],
    ]) {
      const run = await sweep(names.runner, args);
      expect({ args, exitCode: run.exitCode, errors: run.logs.filter((line) => line.level === 'error') })
        .toEqual({ args, exitCode: 0, errors: [] });
    }
    expect(await admin('console_audit').where({ source: 'cli' }).pluck('action')).toEqual(['rearm', 'pause', 'resume']);
  });

  it('the console, as the runner, shows every page of the API and takes every action', async () => {
    const db = createDatabase({ kind: 'postgres', url: database.urlAs(names.runner) });
    const server = await startTestConsole(db);
    try {
      const api = (path: string, method = 'GET', body?: unknown) => call(`${server.url}${path}`, OPERATOR.token, method, body);
      for (const path of ['/api/v1/jobs', '/api/v1/runs', '/api/v1/deliveries', '/api/v1/audit']) {
        expect({ path, status: (await api(path)).status }).toEqual({ path, status: 200 });
      }
      expect((await api('/api/v1/jobs/send-delay-notifications/pause', 'POST', { reason: 'console, least privilege' })).status).toBe(200);
      expect((await api('/api/v1/jobs/send-delay-notifications/resume', 'POST', { reason: 'done' })).status).toBe(200);
      await admin('deliveries').update({ status: 'dead' }).where('key', 'in', admin('deliveries').select('key').where({ status: 'sent' }).limit(1));
      const preview = await api('/api/v1/deliveries/rearm/preview', 'POST', { job: 'send-delay-notifications', status: 'dead' });
      expect(preview.status).toBe(200);
      const rearm = await api('/api/v1/deliveries/rearm', 'POST', { previewId: preview.body.previewId, reason: 'console rearm', force: true });
      expect(rearm.status).toBe(200);
      expect(await admin('console_audit').where({ source: 'console' }).pluck('action')).toEqual(['pause', 'resume', 'rearm']);
      expect(server.logs()).not.toMatch(/permission denied/);
    } finally {
      await server.close();
      await db.destroy();
    }
  });

  it('the runner cannot change the schema, nor write todos', async () => {
    const runner = knexModule.knex({ client: 'pg', connection: database.urlAs(names.runner), pool: { min: 0, max: 1 } });
    try {
      await expect(runner.raw('alter table deliveries add column x int')).rejects.toThrow(/must be owner/);
      await expect(runner.raw('create table sneaky (id int)')).rejects.toThrow(/permission denied/);
      await expect(runner.raw('delete from todos')).rejects.toThrow(/permission denied/);
    } finally {
      await runner.destroy();
    }
  });

  it('a runner without SELECT on todos is refused with one line naming the grant, exit 64', async () => {
    await admin.raw(`revoke select on todos from ${names.runner}`);
    try {
      const run = await sweep(names.runner, ['send-delay-notifications']);
      expect(run.exitCode).toBe(64);
      const errors = run.logs.filter((line) => line.level === 'error');
      expect(errors.map((line) => line.msg)).toEqual([
        `the role ${names.runner} lacks SELECT on todos: GRANT SELECT ON todos TO ${names.runner}; (see deploy/postgres/roles.sql)`,
      ]);
      expect(await admin('job_runs').where({ status: 'running' })).toEqual([]);
    } finally {
      await admin.raw(`grant select on todos to ${names.runner}`);
    }
  });

  it('a runner without the audit\'s sequence is refused before a pause, naming GRANT USAGE ON SEQUENCE, and nothing is paused', async () => {
    await admin.raw(`revoke usage on sequence console_audit_id_seq from ${names.runner}`);
    try {
      const run = await sweep(names.runner, ['pause', 'send-delay-notifications', '--reason', 'incident']);
      expect(run.exitCode).toBe(64);
      expect(run.logs.filter((line) => line.level === 'error').map((line) => line.msg)).toEqual([
        `the role ${names.runner} lacks USAGE on console_audit_id_seq: GRANT USAGE ON SEQUENCE console_audit_id_seq TO ${names.runner}; (see deploy/postgres/roles.sql)`,
      ]);
      expect(await admin('job_pauses')).toEqual([]);
    } finally {
      await admin.raw(`grant usage on sequence console_audit_id_seq to ${names.runner}`);
    }
  });

  it('the console as a role without the audit\'s grants refuses to start, exit 64, naming both GRANTs', async () => {
    await admin.raw(`revoke insert on console_audit from ${names.runner}`);
    await admin.raw(`revoke usage on sequence console_audit_id_seq from ${names.runner}`);
    try {
      const run = await sweep(names.runner, ['console', '--port', '0']);
      expect(run.exitCode).toBe(64);
      expect(run.logs.filter((line) => line.level === 'error').map((line) => line.msg)).toEqual([
        `the role ${names.runner} lacks INSERT on console_audit, USAGE on console_audit_id_seq: GRANT INSERT ON console_audit TO ${names.runner}; `
        + `GRANT USAGE ON SEQUENCE console_audit_id_seq TO ${names.runner}; (see deploy/postgres/roles.sql)`,
      ]);
    } finally {
      await admin.raw(`grant insert on console_audit to ${names.runner}`);
      await admin.raw(`grant usage on sequence console_audit_id_seq to ${names.runner}`);
    }
  });

  it('names every missing grant at once', async () => {
    await admin.raw(`revoke insert, update on job_runs from ${names.runner}`);
    try {
      const run = await sweep(names.runner, ['send-due-soon-reminders']);
      expect(run.exitCode).toBe(64);
      expect(run.logs.find((line) => line.level === 'error')?.msg)
        .toMatch(new RegExp(`lacks INSERT on job_runs, UPDATE on job_runs: GRANT INSERT ON job_runs TO ${names.runner}; GRANT UPDATE ON job_runs TO ${names.runner};`));
    } finally {
      await admin.raw(`grant insert, update on job_runs to ${names.runner}`);
    }
  });
});
