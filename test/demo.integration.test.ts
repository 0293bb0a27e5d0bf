import { execFile } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { exampleTodos } from '../seeds/01_example_todos.js';
import { runCli } from '../src/cli.js';
import { todayUtc } from '../src/runner/option-parsers.js';
import { createEmbeddedDataDir } from './support/test-database.js';

function npmRunDemo(dataDir: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'demo'], {
      // As on a machine that has never seen the project: no DATABASE_URL, no mockserver running.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SWEEP_DATA_DIR: dataDir, LOG_FORMAT: 'json' },
      timeout: 120_000,
    }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }));
  });
}

it('npm run demo sends one notification per delayed example todo, and nothing the second time', async () => {
  const dataDir = createEmbeddedDataDir();
  try {
    const delayed = exampleTodos.filter((todo) => todo.due_date < todayUtc());
    const workspaces = new Set(delayed.map((todo) => todo.workspace_id));

    const first = await npmRunDemo(dataDir.dir);

    expect(first.code).toBe(0);
    expect(first.output).toContain('DATABASE_URL is not set: using the embedded PostgreSQL');
    expect(first.output).toContain(`received ${workspaces.size} token request(s)`);
    expect(first.output).toContain(`and ${delayed.length} notification(s):`);
    for (const todo of delayed) expect(first.output).toContain(`201 send-delay-notifications:${todo.id}:${todo.due_date}`);

    const second = await npmRunDemo(dataDir.dir);

    expect(second.code).toBe(0);
    expect(second.output).toContain('nothing to send: no delayed todos without a notification, and no delivery due again');
    expect(second.output).toContain('and 0 notification(s):');
  } finally {
    dataDir.remove();
  }
});

it('npm run demo says it could not run while a console holds the embedded database, and claims no earlier run', async () => {
  const dataDir = createEmbeddedDataDir();
  const stop = new AbortController();
  const stdout = new PassThrough();
  let listening = '';
  stdout.on('data', (chunk: Buffer) => { listening += chunk.toString(); });
  const env = { SWEEP_DATA_DIR: dataDir.dir, LOG_FORMAT: 'json' };
  expect(await runCli(['migrate'], { env, cwd: process.cwd(), stdout: new PassThrough(), stderr: new PassThrough() })).toBe(0);
  const console = runCli(['console', '--port', '0'], { env, cwd: process.cwd(), stdout, stderr: new PassThrough(), signal: stop.signal });
  try {
    for (let i = 0; i < 200 && !listening.includes('the console serves'); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(listening).toContain('the console serves');

    const blocked = await npmRunDemo(dataDir.dir);

    expect(blocked.code).not.toBe(0);
    expect(blocked.output).toContain('is in use by another sweep process');
    expect(blocked.output).toContain('The demo stopped: `sweep migrate` exited');
    expect(blocked.output).not.toContain('notified by an earlier run');
  } finally {
    stop.abort('SIGTERM');
    await console;
    dataDir.remove();
  }
}, 180_000);
