import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../../../mockserver/mock-server.js';
import { runCli } from '../../../src/cli.js';
import { hoursOf, parseOlderThan } from '../../../src/commands/prune/older-than.js';
import { buildTodo, insertTodos, keyOf, type TodoRow } from '../../support/fixtures.js';
import { runSweep } from '../../support/run-sweep.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const SEND = 'send-delay-notifications';

let database: TestDatabase;
let mock: MockServer;

beforeAll(async () => {
  database = await createTestDatabase();
  mock = await startMockServer({ port: 0 });
});
afterAll(async () => {
  await mock?.close();
  await database?.destroy();
});

const sweep = (args: string[]) => runSweep(args, { database, servicesUrl: mock.url });
const ago = (interval: string) => database.db.raw('now() - ?::interval', [interval]);

/** Runs by name: when they finished decides whether they go. */
const RUNS = {
  finished100Days: { status: 'succeeded', finished: '100 days' },
  failed95Days: { status: 'failed', finished: '95 days' },
  interrupted91Days: { status: 'interrupted', finished: '91 days' },
  running100Days: { status: 'running', finished: undefined },
  // Cannot happen through the runner (status and end are written together); pins "never a running run".
  runningWithAnEnd: { status: 'running', finished: '100 days' },
  finished10Days: { status: 'partial', finished: '10 days' },
  finished30Hours: { status: 'succeeded', finished: '30 hours' },
  finished20Hours: { status: 'succeeded', finished: '20 hours' },
} as const;
type RunName = keyof typeof RUNS;

/** Deliveries by name: status, last change, and whether their todo is still there (live), gone, or moved to another due date. */
const DELIVERIES = {
  sentGone: { status: 'sent', updated: '100 days', todo: 'gone' },
  sentMoved: { status: 'sent', updated: '100 days', todo: 'moved' },
  sentLive: { status: 'sent', updated: '100 days', todo: 'live' },
  sentRecentGone: { status: 'sent', updated: '10 days', todo: 'gone' },
  failedGone: { status: 'failed', updated: '100 days', todo: 'gone' },
  deadGone: { status: 'dead', updated: '100 days', todo: 'gone' },
  failedLive: { status: 'failed', updated: '100 days', todo: 'live' },
  pendingGone: { status: 'pending', updated: '100 days', todo: 'gone' },
  retryGone: { status: 'retry', updated: '100 days', todo: 'gone' },
  otherJobSent: { status: 'sent', updated: '100 days', todo: 'other job' },
} as const;
type DeliveryName = keyof typeof DELIVERIES;

let runIds: Record<RunName, string>;
let keys: Record<DeliveryName, string>;
let liveTodo: TodoRow;

beforeEach(async () => {
  mock.reset();
  const { db } = database;
  for (const table of ['deliveries', 'job_runs', 'job_positions', 'todos']) await db(table).del();
  runIds = {} as Record<RunName, string>;
  for (const [name, run] of Object.entries(RUNS) as Array<[RunName, (typeof RUNS)[RunName]]>) {
    runIds[name] = randomUUID();
    await db('job_runs').insert({
      id: runIds[name], job: SEND, status: run.status, parameters: '{}',
      started_at: ago(run.finished ? `${run.finished} 1 minute` : '100 days'),
      finished_at: run.finished ? ago(run.finished) : null,
    });
  }
  keys = {} as Record<DeliveryName, string>;
  for (const [name, delivery] of Object.entries(DELIVERIES) as Array<[DeliveryName, (typeof DELIVERIES)[DeliveryName]]>) {
    const todo = buildTodo({ due_date: '2020-01-01' });
    if (delivery.todo === 'live') await insertTodos(db, [todo]);
    // The todo's due date moved: it has a new key, the old delivery is for an item that is gone.
    if (delivery.todo === 'moved') await insertTodos(db, [{ ...todo, due_date: '2099-01-01' }]);
    if (name === 'sentLive') liveTodo = todo;
    const job = delivery.todo === 'other job' ? 'other-job' : SEND;
    keys[name] = job === SEND ? keyOf(todo) : `other-job:${todo.id}`;
    await db('deliveries').insert({
      key: keys[name], job, workspace_id: todo.workspace_id, item_id: todo.id, item_date: todo.due_date,
      status: delivery.status, attempts: 1, created_at: ago(delivery.updated), updated_at: ago(delivery.updated),
    });
  }
});

async function remaining(): Promise<{ runs: RunName[]; deliveries: DeliveryName[] }> {
  const ids = new Set<string>(await database.db('job_runs').whereNot({ job: 'prune' }).pluck('id'));
  const left = new Set<string>(await database.db('deliveries').pluck('key'));
  return {
    runs: (Object.keys(runIds) as RunName[]).filter((name) => ids.has(runIds[name])),
    deliveries: (Object.keys(keys) as DeliveryName[]).filter((name) => left.has(keys[name])),
  };
}

function allBut<T extends string>(all: Record<T, unknown>, ...gone: T[]): T[] {
  return (Object.keys(all) as T[]).filter((name) => !gone.includes(name));
}

it('deletes finished runs and sent deliveries older than the cutoff whose todo is gone, and keeps the rest', async () => {
  const run = await sweep(['prune', '--older-than', '90d']);

  expect(run.exitCode).toBe(0);
  expect(run.summary).toMatchObject({ runsDeleted: 3, deliveriesDeleted: 2, deliveriesKept: 2 });
  expect(await remaining()).toEqual({
    runs: allBut(RUNS, 'finished100Days', 'failed95Days', 'interrupted91Days'),
    deliveries: allBut(DELIVERIES, 'sentGone', 'sentMoved'),
  });
  expect(run.logs.find((line) => line.deliveriesKept === 2)?.msg).toMatch(/^kept 2 sent\/superseded delivery\(ies\) older than the cutoff: .*\(--allow-resend deletes them\)$/);
});

it('by default never makes the next run notify a todo again; --allow-resend does, as its help says', async () => {
  await sweep(['prune', '--older-than', '90d', '--include-failed']);
  const next = await sweep([SEND, '--date', '2022-06-03']);
  expect(next.exitCode).toBe(0);
  expect(mock.journal().filter((entry) => entry.endpoint === 'notify')).toEqual([]);

  const resend = await sweep(['prune', '--older-than', '90d', '--allow-resend']);
  expect(resend.summary).toMatchObject({ deliveriesDeleted: 2, deliveriesKept: 0 });
  // A run that reads the todo again (here: one whose position does not cover it yet) notifies it again.
  await database.db('job_positions').del();
  const after = await sweep([SEND, '--date', '2022-06-03']);
  expect(after.summary).toMatchObject({ sent: 1 });
  expect(mock.journal().filter((entry) => entry.endpoint === 'notify').map((entry) => entry.key)).toEqual([keyOf(liveTodo)]);
});

it('with --include-failed also deletes old failed and dead deliveries whose todo is gone, never pending or retry ones', async () => {
  const run = await sweep(['prune', '--older-than', '90d', '--include-failed']);

  expect(run.summary).toMatchObject({ runsDeleted: 3, deliveriesDeleted: 4, deliveriesKept: 3 });
  expect((await remaining()).deliveries).toEqual(allBut(DELIVERIES, 'sentGone', 'sentMoved', 'failedGone', 'deadGone'));
});

it('with --include-failed --allow-resend deletes every old sent, failed and dead delivery, of any job, still never pending or retry', async () => {
  const run = await sweep(['prune', '--older-than', '90d', '--include-failed', '--allow-resend']);

  expect(run.summary).toMatchObject({ deliveriesDeleted: 7, deliveriesKept: 0 });
  expect((await remaining()).deliveries).toEqual(['sentRecentGone', 'pendingGone', 'retryGone']);
});

it('skips and logs a delivery whose item_id is not a todo id, and goes on with the others', async () => {
  const malformed = `${SEND}:legacy-42:2020-01-01`;
  await database.db('deliveries').insert({ key: malformed, job: SEND, workspace_id: randomUUID(), item_id: 'legacy-42',
    item_date: '2020-01-01', status: 'sent', attempts: 1, created_at: ago('100 days'), updated_at: ago('100 days') });

  const dryRun = await sweep(['prune', '--older-than', '90d', '--dry-run']);
  const run = await sweep(['prune', '--older-than', '90d', '--batch-size', '2']);

  expect(dryRun.exitCode).toBe(0);
  expect(dryRun.summary).toMatchObject({ deliveriesDeleted: 2, deliveriesKept: 3 });
  expect(run.exitCode).toBe(0);
  expect(run.summary).toMatchObject({ runsDeleted: 3, deliveriesDeleted: 2, deliveriesKept: 3 });
  expect((await remaining()).deliveries).toEqual(allBut(DELIVERIES, 'sentGone', 'sentMoved'));
  expect(await database.db('deliveries').where({ key: malformed }).first()).toBeDefined();
  const skipped = run.logs.find((line) => line.level === 'warn' && Array.isArray(line.keys));
  expect(skipped).toMatchObject({ deliveriesOf: SEND, count: 1, keys: [malformed] });
  expect(skipped!.msg).toMatch(/item_id is not a todo id/);
  for (const line of [...run.logs, ...dryRun.logs]) expect(line.msg).not.toMatch(/select|delete from/i);
});

it('takes the age in hours too', async () => {
  const run = await sweep(['prune', '--older-than', '24h']);

  expect(run.summary).toMatchObject({ runsDeleted: 5, deliveriesDeleted: 3 });
  expect(await remaining()).toEqual({
    runs: ['running100Days', 'runningWithAnEnd', 'finished20Hours'],
    deliveries: allBut(DELIVERIES, 'sentGone', 'sentMoved', 'sentRecentGone'),
  });
});

it('with --dry-run counts what would go, deletes nothing and records no run', async () => {
  const before = await remaining();
  const run = await sweep(['prune', '--older-than', '90d', '--include-failed', '--dry-run']);

  expect(run.exitCode).toBe(0);
  expect(run.summary).toMatchObject({ runsDeleted: 3, deliveriesDeleted: 4, deliveriesKept: 3, dryRun: true });
  expect(run.logs.map((line) => line.msg)).toContain('dry run: would delete 3 run(s) and 4 delivery(ies); deleted nothing');
  expect(await remaining()).toEqual(before);
  expect(await database.db('job_runs').where({ job: 'prune' })).toEqual([]);
});

it('with --dry-run counts by the same walk in batches as the delete: no statement grows with the ledger', async () => {
  const run = await sweep(['prune', '--older-than', '90d', '--include-failed', '--dry-run', '--batch-size', '2']);

  expect(run.summary).toMatchObject({ runsDeleted: 3, deliveriesDeleted: 4, deliveriesKept: 3 });
  const batches = run.logs.filter((line) => typeof line.batch === 'number');
  expect(batches.filter((line) => line.table === 'job_runs').map((line) => line.examined)).toEqual([2, 1]);
  expect(batches.every((line) => (line.examined as number) <= 2 && / would delete /.test(line.msg))).toBe(true);
  expect(batches.filter((line) => line.table === 'deliveries').reduce((sum, line) => sum + (line.deleted as number), 0)).toBe(4);
});

it('deletes in batches of --batch-size rows, walking the table once, and logs each batch', async () => {
  const extra = Array.from({ length: 7 }, () => buildTodo());
  await database.db('deliveries').insert(extra.map((todo) => ({
    key: keyOf(todo), job: SEND, workspace_id: todo.workspace_id, item_id: todo.id, item_date: todo.due_date,
    status: 'sent', updated_at: ago('200 days'),
  })));

  const run = await sweep(['prune', '--older-than', '90d', '--batch-size', '4']);

  expect(run.summary).toMatchObject({ runsDeleted: 3, deliveriesDeleted: 9, deliveriesKept: 2 });
  const batches = run.logs.filter((line) => typeof line.batch === 'number');
  expect(batches.filter((line) => line.table === 'job_runs').map((line) => [line.examined, line.deleted])).toEqual([[3, 3]]);
  // 10 old sent deliveries of the job: 9 whose todo is gone, 1 whose todo is live (kept), each looked at once.
  const deliveryBatches = batches.filter((line) => line.table === 'deliveries');
  expect(deliveryBatches.map((line) => line.examined)).toEqual([4, 4, 2]);
  expect(deliveryBatches.map((line) => line.total)).toEqual(
    deliveryBatches.map((_, i) => deliveryBatches.slice(0, i + 1).reduce((sum, line) => sum + (line.deleted as number), 0)));
  expect(deliveryBatches.at(-1)?.total).toBe(9);
  expect(await database.db('deliveries').whereIn('key', extra.map(keyOf))).toEqual([]);
});

it('checks before each batch whether it is asked to stop, and is then recorded as interrupted', async () => {
  const before = await remaining();
  const stop = new AbortController();
  stop.abort('SIGTERM');
  const exitCode = await runCli(['prune', '--older-than', '90d'], {
    env: { LOG_FORMAT: 'json', LOG_LEVEL: 'silent', ...database.env }, cwd: process.cwd(),
    stdout: new PassThrough(), stderr: new PassThrough(), database: database.injected, signal: stop.signal,
  });

  expect(exitCode).toBe(143);
  expect(await remaining()).toEqual(before);
  expect(await database.db('job_runs').where({ job: 'prune' }).first()).toMatchObject({
    status: 'interrupted', counts: { runsDeleted: 0, deliveriesDeleted: 0 } });
});

it('records itself in job_runs like any run, and a later prune keeps it until it is old', async () => {
  const run = await sweep(['prune', '--older-than', '90d']);
  const [recorded, ...others] = await database.db('job_runs').where({ job: 'prune' });

  expect(others).toEqual([]);
  expect(recorded).toMatchObject({
    status: 'succeeded', error: null,
    parameters: { olderThan: '90d', includeFailed: false, allowResend: false, dryRun: false, batchSize: 5000 },
    counts: { runsDeleted: 3, deliveriesDeleted: 2, deliveriesKept: 2 },
  });
  expect(recorded.finished_at).toBeInstanceOf(Date);
  expect(run.summary?.runId).toBe(recorded.id);

  const listed = await sweep(['runs', '--job', 'prune', '--json']);
  expect(JSON.parse(listed.output)).toMatchObject({ id: recorded.id, counts: { runsDeleted: 3 } });
  await sweep(['prune', '--older-than', '1h']);
  expect(await database.db('job_runs').where({ job: 'prune' }).pluck('id')).toContain(recorded.id);
});

it.each([['0d'], ['0h'], ['90'], ['d'], ['-5d'], ['1.5d'], ['90m'], ['ninety days'], ['36501d']])(
  'refuses --older-than %s with exit 64 and deletes nothing', async (value) => {
    const before = await remaining();
    const run = await sweep(['prune', '--older-than', value]);

    expect(run.exitCode).toBe(64);
    expect(run.stderr).toMatch(/option '--older-than <age>' argument '.*' is invalid. Expected an age/);
    expect(await remaining()).toEqual(before);
  });

it('refuses to run without --older-than, with exit 64', async () => {
  const run = await sweep(['prune', '--include-failed']);

  expect(run.exitCode).toBe(64);
  expect(run.stderr).toContain('required option \'--older-than <age>\' not specified');
  expect((await remaining()).deliveries).toEqual(Object.keys(DELIVERIES));
});

it('reads an age as days or hours, normalised', () => {
  expect(parseOlderThan(' 090D ')).toBe('90d');
  expect(hoursOf(parseOlderThan('90d'))).toBe(2160);
  expect(hoursOf(parseOlderThan('36h'))).toBe(36);
  expect(hoursOf(parseOlderThan('36500d'))).toBe(876_000);
});
