import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWEEP_FROM_SOURCES } from './support/sweep-process.js';
import { createEmbeddedDataDir, createTestDatabase, type TestDatabase } from './support/test-database.js';

/** The sources by absolute paths, for a process started in another working directory. */
const SWEEP_FROM_ANYWHERE = ['--import', pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href, resolve('src/main.ts')];

/** Runs the sweep as a scheduler would: a real process, its real exit code. */
function sweepProcess(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [...(cwd ? SWEEP_FROM_ANYWHERE : SWEEP_FROM_SOURCES), ...args], {
      env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', ...env },
      timeout: 60_000,
      cwd,
    }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('sweep as a process', () => {
  it('lists every job with a one-line description in --help', async () => {
    const { code, stdout: help } = await sweepProcess(['--help']);
    const stdout = help.replace(/\s+/g, ' ');
    expect(code).toBe(0);
    expect(stdout).toMatch(/send-delay-notifications \[options\] Sends one notification per todo whose due date has ended in its workspace's zone/);
    expect(stdout).toMatch(/send-due-soon-reminders \[options\] Sends one reminder per todo due the next day, from the local send time/);
    expect(stdout).toMatch(/send-workspace-digests \[options\] Sends one digest per workspace that has delayed todos/);
    expect(stdout).toMatch(/migrate\s+Applies the database migrations/);
    expect(stdout).toMatch(/seed\s+Loads the example todos/);
  });

  it.each([
    ['send-delay-notifications', /whatever the hour: todos due before it are delayed/],
    ['send-due-soon-reminders', /whatever the hour: todos due on the day after it are reminded .*--local-time <HH:MM>.*\(default: "09:00"\)/],
    ['send-workspace-digests', /whatever the hour: the day of the digest; todos due before it .*--local-time <HH:MM>.*\(default: "08:00"\)/],
  ])('shows %s\'s options: the shared ones with their defaults and environment variables, and what its run date means',
    async (job, runDate) => {
      const { code, stdout: help } = await sweepProcess([job, '--help']);
      const stdout = help.replace(/\s+/g, ' ');
      expect(code).toBe(0);
      for (const option of ['--date <YYYY-MM-DD>', '--at <instant>', '--concurrency <n>', '--page-size <n>', '--dry-run', '--lease-seconds <n>',
        '--max-attempts <n>', '--retry-backoff-seconds <n>', '--max-rate <n>', '--grace-seconds <n>', '--allow-future-date']) {
        expect(stdout).toContain(option);
      }
      expect(stdout).toMatch(/default: 16, env: SWEEP_CONCURRENCY/);
      expect(stdout).toMatch(runDate);
    });

  it('prints its version', async () => {
    const { code, stdout } = await sweepProcess(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each([
    [['no-such-job'], /unknown command 'no-such-job'/],
    [['send-delay-notifications', '--date', '2022-13-45'], /--date <YYYY-MM-DD>' argument '2022-13-45' is invalid/],
    [['send-delay-notifications', '--date', 'yesterday'], /Expected a date as YYYY-MM-DD/],
    [['send-delay-notifications', '--concurrency', '0'], /--concurrency <n>' argument '0' is invalid/],
    [['send-delay-notifications', '--page-size', 'many'], /--page-size <n>' argument 'many' is invalid/],
    [['send-delay-notifications', '--no-such-option'], /unknown option '--no-such-option'/],
    [[], /Usage: sweep <job> \[options\]/],
  ])('exits 64 with one line naming the problem for %j', async (args, message) => {
    const { code, stderr, stdout } = await sweepProcess(args);
    expect(code).toBe(64);
    expect(stderr).toMatch(message);
    expect(stdout).toBe('');
  });

  it('exits 64 naming every invalid environment variable, touching nothing', async () => {
    const { code, stderr } = await sweepProcess(['send-delay-notifications'],
      { SERVICES_URL: 'ftp://example', DATABASE_URL: 'mysql://root:hunter2@db/x', LOG_LEVEL: 'loud' });
    expect(code).toBe(64);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/SERVICES_URL must be an http/);
    expect(stderr).toMatch(/DATABASE_URL must be a postgres:\/\/ URL/);
    expect(stderr).toMatch(/LOG_LEVEL must be one of/);
    expect(stderr).not.toContain('hunter2');
  });

  it.each([
    ['SERVICES_URL with credentials', { SERVICES_URL: 'http://user:hunter2-pw@127.0.0.1:1/', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/sweep' }, /SERVICES_URL must not carry a user or password/],
    ['SERVICES_URL without a scheme', { SERVICES_URL: 'user:hunter2-pw@127.0.0.1:1', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/sweep' }, /SERVICES_URL must be an http/],
    ['DATABASE_URL without a scheme', { DATABASE_URL: 'svc:hunter2-pw@127.0.0.1:1/sweep' }, /DATABASE_URL must be a postgres/],
  ])('exits 64 with one line for %s, never showing its password', async (_, env, message) => {
    const { code, stdout, stderr } = await sweepProcess(['send-delay-notifications'], env);
    expect(code).toBe(64);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
    expect(stdout + stderr).not.toContain('hunter2-pw');
  });

  it('never shows a database password given as a query parameter, at the default level', async () => {
    const { code, stdout, stderr } = await sweepProcess(['send-delay-notifications'],
      { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/sweep?password=hunter2-pw', LOG_LEVEL: 'info' });
    expect(code).toBe(1);
    expect(stdout).toMatch(/cannot reach the database \(PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/sweep\?password=\*\*\*\)/);
    expect(stdout + stderr).not.toContain('hunter2-pw');
  });

  it('exits 64 with one line, and no stack trace, when .env is a directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sweep-cwd-'));
    try {
      mkdirSync(join(dir, '.env'));
      const { code, stdout, stderr } = await sweepProcess(['runs'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/sweep' }, dir);
      expect(code).toBe(64);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^sweep: invalid configuration: \.env in .* cannot be read: .*EISDIR/);
      expect(stdout).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 with one clear line and no stack trace when the database is unreachable', async () => {
    const { code, stdout, stderr } = await sweepProcess(['send-delay-notifications'],
      { DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/sweep' });
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as { level: string; msg: string });
    const errors = lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/cannot reach the database \(PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/sweep\): .*ECONNREFUSED/);
    expect(stdout + stderr).not.toMatch(/\n\s+at /);
    expect(stdout + stderr).not.toContain('secret');
  });
});

describe('sweep against a database', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.destroy();
  });

  it('refuses to run a job on a schema that is not migrated, and says what to do', async () => {
    const dataDir = createEmbeddedDataDir();
    try {
      const { code, stdout } = await sweepProcess(['send-delay-notifications'], { SWEEP_DATA_DIR: dataDir.dir });
      expect(code).toBe(1);
      expect(stdout).toMatch(/run 'sweep migrate' first/);
    } finally {
      dataDir.remove();
    }
  });

  it('refuses to seed when NODE_ENV=production', async () => {
    const env = database.shared ? database.env : { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/unused' };
    const { code, stdout, stderr } = await sweepProcess(['seed'], { ...env, NODE_ENV: 'production' });
    expect(code).toBe(database.shared ? 64 : 1);
    if (database.shared) expect(stdout).toMatch(/seed refuses to run when NODE_ENV=production/);
    else expect(stdout + stderr).toMatch(/cannot reach the database/);
  });

  it('requires DATABASE_URL when NODE_ENV=production: the embedded database is for local use', async () => {
    const { code, stderr } = await sweepProcess(['send-delay-notifications'], { NODE_ENV: 'production' });
    expect(code).toBe(64);
    expect(stderr).toMatch(/DATABASE_URL must be set when NODE_ENV=production/);
  });

  it('exits quietly when its reader closes the pipe early', async () => {
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile('sh', ['-c', `"${process.execPath}" ${SWEEP_FROM_SOURCES.join(' ')} --help | head -1`], (error, _stdout, err) =>
        resolve({ code: error ? 1 : 0, stderr: err }));
    });
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|at /);
  });
});
