import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../../mockserver/mock-server.js';
import { buildDelayedTodos, insertTodos, keyOf } from '../support/fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { waitFor } from '../support/sweep-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** Debian's prometheus-pushgateway package; .ci/run installs it. */
const PUSHGATEWAY = '/usr/bin/prometheus-pushgateway';
const SEND = 'send-delay-notifications';

let database: TestDatabase;
let mock: MockServer;
let gateway: ChildProcess | undefined;
let gatewayUrl: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The pushed samples for this job, as `name{labels} value` lines. */
async function pushedMetrics(): Promise<string[]> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith('sweep_') && line.includes(`job="${SEND}"`));
}
/** The value of `name` whose labels include every one of `labels` ('a="1",b="2"'). */
function sample(lines: string[], name: string, labels = ''): number | undefined {
  const wanted = labels ? labels.split(',') : [];
  const line = lines.find((candidate) => candidate.startsWith(`${name}{`) && wanted.every((label) => candidate.includes(label)));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

const requirePushgateway = process.env.CI === 'true';
const hasPushgateway = existsSync(PUSHGATEWAY);

beforeAll(async () => {
  if (!hasPushgateway) return;
  const port = await freePort();
  gatewayUrl = `http://127.0.0.1:${port}`;
  gateway = spawn(PUSHGATEWAY, [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  await waitFor(async () => (await fetch(`${gatewayUrl}/-/ready`).catch(() => undefined))?.ok === true, 20_000, 'the Pushgateway');
  database = await createTestDatabase();
  mock = await startMockServer({ port: 0 });
});
afterAll(async () => {
  gateway?.kill();
  await mock?.close();
  await database?.destroy();
});

it('has a Pushgateway to test against in CI', () => {
  if (requirePushgateway) expect(hasPushgateway).toBe(true);
});

it.skipIf(!hasPushgateway)('pushes a run\'s metrics to the Pushgateway, and a failed run never hides the last success', async () => {
  const todos = await insertTodos(database.db, [...buildDelayedTodos(3, 2, '2020-01-01'), ...buildDelayedTodos(2, 1, '2021-01-01')]);
  const env = { PUSHGATEWAY_URL: gatewayUrl };
  const beforeFirst = Date.now() / 1000;

  const first = await runSweep([SEND, '--date', '2022-06-03'], { database, servicesUrl: mock.url, env });

  expect(first.exitCode).toBe(0);
  const afterFirst = await pushedMetrics();
  expect(sample(afterFirst, 'sweep_run_items', 'count="sent"')).toBe(5);
  expect(sample(afterFirst, 'sweep_run_items', 'count="tokenFetches"')).toBe(3);
  expect(sample(afterFirst, 'sweep_run_exit_code')).toBe(0);
  expect(sample(afterFirst, 'sweep_request_duration_seconds_count', 'endpoint="POST /notify/notifications",outcome="2xx"')).toBe(5);
  expect(sample(afterFirst, 'sweep_request_duration_seconds_count', 'endpoint="POST /auth/token",outcome="2xx"')).toBe(3);
  expect(sample(afterFirst, 'sweep_backlog_oldest_age_seconds')).toBe(0);
  const lastSuccess = sample(afterFirst, 'sweep_last_success_timestamp_seconds');
  expect(lastSuccess).toBeGreaterThanOrEqual(Math.floor(beforeFirst));

  // A newer todo whose notification keeps failing: exit 75, the backlog is how long it has
  // been owed: since it fell due, at the midnight (UTC, its workspace's zone) ending its due date.
  const [stuck] = await insertTodos(database.db, buildDelayedTodos(1, 1, '2022-01-01'));
  mock.configure({ rules: [{ endpoint: 'notify', match: { key: keyOf(stuck!) }, status: 503 }] });
  const failing = await runSweep([SEND, '--date', '2022-06-03'], { database, servicesUrl: mock.url, env });

  expect(failing.exitCode).toBe(75);
  const afterFailing = await pushedMetrics();
  expect(sample(afterFailing, 'sweep_run_exit_code')).toBe(75);
  expect(sample(afterFailing, 'sweep_run_items', 'count="failedTransiently"')).toBe(1);
  expect(sample(afterFailing, 'sweep_last_success_timestamp_seconds')).toBe(lastSuccess);
  const backlog = sample(afterFailing, 'sweep_backlog_oldest_age_seconds')!;
  expect(backlog).toBeGreaterThan((Date.now() - Date.parse('2022-01-02T00:00:00Z')) / 1000 - 60);
  expect(backlog).toBeLessThan((Date.now() - Date.parse('2022-01-01T00:00:00Z')) / 1000);
  expect(todos).toHaveLength(5);

  // Older still: one refused for good (403: not backlog, it has its own alert) and one
  // held by another live run (backlog: it is still to do).
  const [refused, held] = await insertTodos(database.db, [
    ...buildDelayedTodos(1, 1, '2019-01-01'), ...buildDelayedTodos(1, 1, '2020-06-01'),
  ]);
  mock.configure({ rules: [{ endpoint: 'notify', match: { key: keyOf(refused!) }, status: 403 }] });
  await database.db('deliveries').insert({ key: keyOf(held!), job: SEND, workspace_id: held!.workspace_id, item_id: held!.id,
    item_date: held!.due_date, message: `Todo ${held!.id} is delayed`, status: 'pending', run_id: '00000000-0000-4000-8000-000000000001',
    lease_expires_at: database.db.raw(`now() + interval '1 hour'`) });
  const third = await runSweep([SEND, '--date', '2022-06-03'], { database, servicesUrl: mock.url, env });

  expect(third.summary).toMatchObject({ failedPermanently: 1, claimedElsewhere: 1, backingOff: 1 });
  const held2020 = sample(await pushedMetrics(), 'sweep_backlog_oldest_age_seconds')!;
  expect(held2020).toBeGreaterThan((Date.now() - Date.parse('2020-06-02T00:00:00Z')) / 1000 - 60);
  expect(held2020).toBeLessThan((Date.now() - Date.parse('2020-06-01T00:00:00Z')) / 1000);
});

it.skipIf(!hasPushgateway)('pushes how many runs of the job a dead process left running, once their lease is over', async () => {
  const env = { PUSHGATEWAY_URL: gatewayUrl };
  const dead = { job: SEND, parameters: '{}', status: 'running', heartbeat_at: database.db.raw(`now() - interval '10 minutes'`) };
  await database.db('job_runs').insert([
    { ...dead, id: '00000000-0000-4000-8000-0000000000a1', lease_expires_at: database.db.raw(`now() - interval '5 minutes'`) },
    // Its lease is not over: a live run as far as anyone can tell.
    { ...dead, id: '00000000-0000-4000-8000-0000000000a2', lease_expires_at: database.db.raw(`now() + interval '5 minutes'`) },
  ]);

  await runSweep([SEND, '--date', '2022-06-03'], { database, servicesUrl: mock.url, env });

  expect(sample(await pushedMetrics(), 'sweep_abandoned_runs')).toBe(1);
  await database.db('job_runs').whereIn('id', ['00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000a2']).del();
});

it.skipIf(!hasPushgateway)('logs a failed push and finishes the run as if nothing happened', async () => {
  const unreachable = `http://127.0.0.1:${await freePort()}`;

  const run = await runSweep([SEND, '--date', '2022-06-03'], { database, servicesUrl: mock.url, env: { PUSHGATEWAY_URL: unreachable } });

  expect([0, 75]).toContain(run.exitCode);
  expect(run.logs.find((line) => line.level === 'warn' && /could not push the run's metrics/.test(line.msg))).toMatchObject({ pushgateway: unreachable });
});

it.skipIf(!hasPushgateway)('shows a pause and a resume in the paused job\'s group at once, leaving its other metrics alone', async () => {
  const env = { PUSHGATEWAY_URL: gatewayUrl };
  const before = sample(await pushedMetrics(), 'sweep_run_exit_code');

  expect((await runSweep(['pause', SEND, '--reason', 'test'], { database, env })).exitCode).toBe(0);
  expect(sample(await pushedMetrics(), 'sweep_job_paused')).toBe(1);
  expect(sample(await pushedMetrics(), 'sweep_run_exit_code')).toBe(before);

  expect((await runSweep(['resume', SEND], { database, env })).exitCode).toBe(0);
  expect(sample(await pushedMetrics(), 'sweep_job_paused')).toBe(0);
});
