import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import knexModule, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startMockServer, type MockServer } from '../../mockserver/mock-server.js';
import { JOB_FIXTURES } from '../support/job-fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { databaseUrl, withAdmin } from '../support/test-database-target.js';
import type { TestDatabase } from '../support/test-database.js';

const ROLES_SQL = readFileSync(new URL('../../deploy/postgres/roles.sql', import.meta.url), 'utf8');
/** deploy/postgres/roles.sql's two parts, split at their headings. */
const [ROLES_PART, GRANTS_PART] = ROLES_SQL.split(/^-- Part 2.*$/m) as [string, string];

/** Runs a part of roles.sql with the roles renamed: roles are the server's, shared by every test database. */
const runPart = (db: Knex, part: string, names: { migrator: string; runner: string }) => {
  const statements = part.split('\n').filter((line) => !line.startsWith('--')).join('\n')
    .replaceAll('sweep_migrator', names.migrator).replaceAll('sweep_runner', names.runner)
    .split(';').map((statement) => statement.trim()).filter(Boolean);
  return statements.reduce((done, statement) => done.then(() => db.raw(statement)), Promise.resolve<unknown>(undefined));
};

/**
 * The roles of deploy/postgres/roles.sql on a database of their own, from empty: the
 * migrator migrates it, the runner runs every job and operator command, and a runner
 * missing a grant is refused with the GRANT to run. Straight to the server (the admin
 * URL): a pooler's auth file knows only the test's own user.
 */
describe.runIf(inject('testDatabase').kind === 'postgres')('the roles in deploy/postgres/roles.sql', () => {
  const suffix = randomUUID().replaceAll('-', '').slice(0, 8);
  const names = { migrator: `sweep_migrator_${suffix}`, runner: `sweep_runner_${suffix}` };
  const name = `sweep_roles_${suffix}`;
  const adminUrl = (inject('testDatabase') as { adminUrl: string }).adminUrl;
  const asRole = (role: string) => {
    const url = new URL(databaseUrl(adminUrl, name));
    url.username = role;
    url.password = '';
    return url.toString();
  };
  let admin: Knex;
  let mock: MockServer;

  const sweep = (role: string, args: string[]) => runSweep(args, {
    database: { env: { DATABASE_URL: asRole(role) } } as unknown as TestDatabase,
    servicesUrl: mock.url,
  });

  beforeAll(async () => {
    await withAdmin(adminUrl, (server) => server.raw(`create database ${name}`));
    admin = knexModule.knex({ client: 'pg', connection: databaseUrl(adminUrl, name), pool: { min: 0, max: 2 } });
    await runPart(admin, ROLES_PART, names);
    mock = await startMockServer({ port: 0 });
  });
  afterAll(async () => {
    await mock?.close();
    await admin?.destroy();
    await withAdmin(adminUrl, async (server) => {
      await server.raw(`drop database if exists ${name} with (force)`);
      for (const role of [names.runner, names.migrator]) await server.raw(`drop role if exists ${role}`);
    });
  });

  it('the migrator migrates an empty database and grants the runner what it needs', async () => {
    const migrated = await sweep(names.migrator, ['migrate']);
    expect(migrated.exitCode).toBe(0);
    const migrator = knexModule.knex({ client: 'pg', connection: asRole(names.migrator), pool: { min: 0, max: 1 } });
    try {
      await runPart(migrator, GRANTS_PART, names);
    } finally {
      await migrator.destroy();
    }
    const owners = await admin.raw(`select distinct tableowner from pg_tables where tablename in ('todos', 'deliveries', 'job_runs', 'job_pauses', 'job_positions')`);
    expect(owners.rows).toEqual([{ tableowner: names.migrator }]);
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

  it('the runner runs the operator commands: runs, deliveries, pause and resume, prune', async () => {
    for (const args of [
      ['runs'], ['runs', '--json'], ['deliveries', '--status', 'sent'], ['deliveries', 'retry', '--status', 'failed'],
      ['pause', 'send-delay-notifications', '--reason', 'least privilege'], ['resume', 'send-delay-notifications'],
      ['prune', '--older-than', '1d', '--dry-run'], ['prune', '--older-than', '1d'],
    ]) {
      const run = await sweep(names.runner, args);
      expect({ args, exitCode: run.exitCode, errors: run.logs.filter((line) => line.level === 'error') })
        .toEqual({ args, exitCode: 0, errors: [] });
    }
  });

  it('the runner cannot change the schema', async () => {
    const runner = knexModule.knex({ client: 'pg', connection: asRole(names.runner), pool: { min: 0, max: 1 } });
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
