import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { lockDataDir } from '../../src/database/data-dir-lock.js';
import { createEmbeddedDataDir } from '../support/test-database.js';
import { useTestDatabase } from '../support/testbed.js';

const TOKEN = 'console-command-token-0123456789';

interface Started {
  /** Resolves with the exit code once the console has stopped. */
  exit: Promise<number>;
  stop(): void;
  stdout(): string;
  stderr(): string;
  /** Resolves with the console's URL once it listens. */
  url: Promise<string>;
}

/** `sweep console` in-process, as main.ts runs it, with a signal to stop it. */
function startConsoleCommand(args: string[], env: Record<string, string>, database?: import('knex').Knex): Started {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  let listening: (url: string) => void = () => undefined;
  const url = new Promise<string>((resolve) => { listening = resolve; });
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const match = /"url":"(http:\/\/[^"]+)"/.exec(out);
    if (match) listening(match[1]!);
  });
  stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
  const stop = new AbortController();
  const exit = runCli(['console', ...args], { env: { LOG_FORMAT: 'json', ...env }, cwd: process.cwd(), stdout, stderr, signal: stop.signal, database });
  void exit.then(() => listening(''));
  return { exit, stop: () => stop.abort('SIGTERM'), stdout: () => out, stderr: () => err, url };
}

describe('sweep console', () => {
  const testbed = useTestDatabase([]);
  const dirs: Array<{ remove: () => void }> = [];
  afterEach(() => { for (const dir of dirs.splice(0)) dir.remove(); });

  it('serves until SIGTERM, then closes the server and exits 0: a signal is how a service is stopped', async () => {
    const started = startConsoleCommand(['--port', '0'], { ...testbed.database.env, SWEEP_CONSOLE_TOKENS: `ops:operator:${TOKEN}` },
      testbed.database.injected);
    const url = await started.url;
    expect((await fetch(`${url}/api/v1/jobs`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);

    started.stop();

    expect(await started.exit).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(started.stdout()).toContain('the console stops: closing the server');
    expect(started.stdout()).not.toContain('interrupted');
    expect(started.stdout()).not.toContain(TOKEN);
  });

  // On PGlite the testbed's database is handed in and the runner cancels nothing: only a server's statements are cancelled.
  it.skipIf(!process.env.TEST_DATABASE_URL)('lets a request in flight finish after SIGTERM, then exits 0', async () => {
    const started = startConsoleCommand(['--port', '0'], { ...testbed.database.env, SWEEP_CONSOLE_TOKENS: `ops:operator:${TOKEN}` },
      testbed.database.injected);
    const url = await started.url;
    // The jobs page reads job_pauses: held by a lock, the request is in flight when the signal comes.
    const lock = await testbed.database.db.transaction();
    await lock.raw('lock table job_pauses in access exclusive mode');
    const inFlight = fetch(`${url}/api/v1/jobs`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await new Promise((resolve) => setTimeout(resolve, 300));

    started.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await lock.commit();

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { jobs: unknown[] }).jobs).toHaveLength(3);
    const stoppedAt = Date.now();
    expect(await started.exit).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
  });

  it('refuses a short token, an unknown role or no list on PostgreSQL: exit 64, one line, no token shown', async () => {
    const short = startConsoleCommand(['--port', '0'], { ...testbed.database.env, SWEEP_CONSOLE_TOKENS: 'ops:operator:too-short-a-secret' },
      testbed.database.injected);
    expect(await short.exit).toBe(64);
    const errors = short.stdout().split('\n').filter((line) => line.includes('"level":"error"'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('SWEEP_CONSOLE_TOKENS entry 1 (ops): the token is 18 characters, at least 24 are needed');
    expect(short.stdout() + short.stderr()).not.toContain('too-short-a-secret');

    const role = startConsoleCommand([], { ...testbed.database.env, SWEEP_CONSOLE_TOKENS: `ops:admin:${TOKEN}` }, testbed.database.injected);
    expect(await role.exit).toBe(64);
    expect(role.stdout()).toContain('unknown role \'admin\'');

    if (testbed.database.kind === 'postgres') {
      const none = startConsoleCommand([], { ...testbed.database.env });
      expect(await none.exit).toBe(64);
      expect(none.stdout()).toContain('SWEEP_CONSOLE_TOKENS is not set');
    }
  });

  it('on the embedded database with no tokens, prints a one-time sign-in link to the terminal only, on 127.0.0.1', async () => {
    const data = createEmbeddedDataDir();
    dirs.push(data);
    const env = { SWEEP_DATA_DIR: data.dir };
    expect(await runCli(['migrate'], { env: { LOG_FORMAT: 'json', ...env }, cwd: process.cwd(), stdout: new PassThrough(), stderr: new PassThrough() })).toBe(0);
    const elsewhere = startConsoleCommand(['--host', '0.0.0.0', '--port', '0'], env);
    expect(await elsewhere.exit).toBe(64);
    expect(elsewhere.stdout()).toContain('--host 0.0.0.0 needs SWEEP_CONSOLE_TOKENS');

    const started = startConsoleCommand(['--port', '0'], env);
    const url = await started.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const link = new RegExp(`${url}/login\\?token=([A-Za-z0-9_-]{43})`).exec(started.stderr());
    expect(link).not.toBeNull();
    const signedIn = await fetch(link![0], { redirect: 'manual' });
    expect(signedIn.status).toBe(303);
    expect(started.stdout()).not.toContain(link![1]);
    // The one process that may open the embedded database runs a job on request, beside serving.
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
    const session = { cookie, 'sec-fetch-site': 'same-origin' };
    expect((await fetch(`${url}/api/v1/jobs/send-delay-notifications/run`, { method: 'POST', headers: session })).status).toBe(202);
    let runs: Array<{ status: string }> = [];
    for (let i = 0; i < 100 && !runs.some((run) => run.status === 'succeeded'); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      runs = ((await (await fetch(`${url}/api/v1/runs`, { headers: session })).json()) as { runs: Array<{ status: string }> }).runs;
    }
    expect(runs).toMatchObject([{ status: 'succeeded', job: 'send-delay-notifications' }]);
    started.stop();
    expect(await started.exit).toBe(0);
  });

  it('says in one line which process holds the embedded database', async () => {
    const data = createEmbeddedDataDir();
    dirs.push(data);
    const release = await lockDataDir(data.dir);
    try {
      const started = startConsoleCommand(['--port', '0'], { SWEEP_DATA_DIR: data.dir });
      expect(await started.exit).toBe(1);
      expect(started.stdout()).toContain(`the embedded database in ${data.dir} is in use by another sweep process (pid ${process.pid})`);
    } finally {
      release();
    }
  });
});
