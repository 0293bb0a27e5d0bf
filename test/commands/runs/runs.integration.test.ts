import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../../../mockserver/mock-server.js';
import { buildDelayedTodos, insertTodos, keyOf, type TodoRow } from '../../support/fixtures.js';
import { runSweep } from '../../support/run-sweep.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const SEND = 'send-delay-notifications';

let database: TestDatabase;
let mock: MockServer;
let todos: TodoRow[];
/** A partial run: two sent, one refused (422), one failing transiently (500). */
let firstRunId: string;
/** A later run: sends nothing, the 500 one is still backing off. */
let secondRunId: string;
/** Older rows of another job, written directly. */
const failedRunId = randomUUID();
const runningRunId = randomUUID();

beforeAll(async () => {
  database = await createTestDatabase();
  mock = await startMockServer({ port: 0 });
  await database.db('job_runs').insert([
    { id: failedRunId, job: 'other-job', parameters: JSON.stringify({ size: 3 }), status: 'failed', error: 'boom',
      started_at: database.db.raw(`now() - interval '2 days'`), finished_at: database.db.raw(`now() - interval '2 days' + interval '90 seconds'`) },
    { id: runningRunId, job: 'other-job', parameters: '{}', status: 'running', started_at: database.db.raw(`now() - interval '1 day'`) },
  ]);
  todos = await insertTodos(database.db, buildDelayedTodos(4, 2));
  mock.configure({
    rules: [
      { endpoint: 'notify', match: { key: keyOf(todos[2]!) }, status: 422, body: { error: 'unknown todo' } },
      { endpoint: 'notify', match: { key: keyOf(todos[3]!) }, status: 500 },
    ],
  });
  const first = await sweep([SEND, '--date', '2022-06-03', '--retry-backoff-seconds', '3600']);
  expect(first.exitCode).toBe(75);
  mock.configure({ rules: [] });
  const second = await sweep([SEND, '--date', '2022-06-03']);
  expect(second.exitCode).toBe(0);
  [secondRunId, firstRunId] = await database.db('job_runs').where({ job: SEND }).orderBy('started_at', 'desc').pluck('id');
});
afterAll(async () => {
  await mock?.close();
  await database?.destroy();
});

const sweep = (args: string[]) => runSweep(args, { database, servicesUrl: mock.url });

/** The table's data lines, split into cells on runs of two or more spaces. */
function tableRows(output: string): string[][] {
  return output.trimEnd().split('\n').slice(1).map((line) => line.split(/ {2,}/));
}

it('lists runs newest first with their counts, data on stdout and logs on stderr', async () => {
  const run = await sweep(['runs']);

  expect(run.exitCode).toBe(0);
  const [header, ...lines] = run.output.trimEnd().split('\n');
  expect(header).toMatch(/^id\s+job\s+parameters\s+status\s+started\s+duration\s+found\s+due again\s+sent\s+already sent\s+failed\s+dead\s+superseded$/);
  expect(lines.map((line) => line.slice(0, 36))).toEqual([secondRunId, firstRunId, runningRunId, failedRunId]);
  const [second, first, running, failed] = tableRows(run.output);
  // found, due again, sent, already sent, failed (permanently + transiently), dead, superseded
  expect(first).toEqual([firstRunId, SEND, expect.stringMatching(/^date=2022-06-03 .*concurrency=16 .*…$/), 'partial',
    expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/), expect.stringMatching(/ (ms|s)$/), '4', '0', '2', '-', '2', '0', '0']);
  // nothing new, nothing due: the one backing off waits in the ledger, the refused one is settled
  expect(second?.slice(3)).toEqual(['succeeded', expect.any(String), expect.any(String), '0', '0', '0', '-', '0', '0', '0']);
  expect(running?.slice(1)).toEqual(['other-job', '-', 'running', expect.any(String), '-', '-', '-', '-', '-', '-', '-', '-']);
  expect(failed?.slice(1, 6)).toEqual(['other-job', 'size=3', 'failed', expect.any(String), '1 m 30 s']);
  expect(run.stderr).toContain('"msg":"runs finished"');
  expect(run.output).not.toContain('"msg"');
});

it('filters by job and by one or more statuses, and limits the count', async () => {
  const bySend = tableRows((await sweep(['runs', '--job', SEND])).output).map((row) => row[0]);
  expect(bySend).toEqual([secondRunId, firstRunId]);

  const byStatus = tableRows((await sweep(['runs', '--status', 'partial,failed'])).output).map((row) => row[0]);
  expect(byStatus).toEqual([firstRunId, failedRunId]);

  const both = tableRows((await sweep(['runs', '--job', 'other-job', '--status', 'running'])).output).map((row) => row[0]);
  expect(both).toEqual([runningRunId]);

  const limited = tableRows((await sweep(['runs', '--limit', '1'])).output).map((row) => row[0]);
  expect(limited).toEqual([secondRunId]);
});

it('lists as JSON lines: the raw rows, parameters and counts as objects', async () => {
  const run = await sweep(['runs', '--job', SEND, '--json']);

  const rows = run.output.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(rows.map((row) => row.id)).toEqual([secondRunId, firstRunId]);
  expect(rows[1]).toMatchObject({
    id: firstRunId, job: SEND, status: 'partial', error: null, pid: process.pid,
    parameters: { date: '2022-06-03', retryBackoffSeconds: 3600, dryRun: false },
    counts: { found: 4, sent: 2, failedPermanently: 1, failedTransiently: 1, dead: 0, backingOff: 0 },
  });
  expect(Object.keys(rows[1]!).sort()).toEqual(
    ['changes_after', 'counts', 'error', 'finished_at', 'heartbeat_at', 'hold', 'host', 'id', 'job', 'lease_expires_at', 'parameters', 'pid', 'started_at', 'status',
      'trace_id']);
  expect(Date.parse(rows[1]!.finished_at as string)).toBeGreaterThanOrEqual(Date.parse(rows[1]!.started_at as string));
});

it('shows one run in full with the deliveries it left failed or to retry', async () => {
  const run = await sweep(['runs', 'show', firstRunId]);

  expect(run.exitCode).toBe(0);
  const [fields = '', failures = ''] = run.output.split('\n\n');
  expect(fields).toMatch(new RegExp(`^id\\s+${firstRunId}$`, 'm'));
  for (const line of [/^status\s+partial$/m, /^job\s+send-delay-notifications$/m, /^finished\s+\d{4}-.*Z$/m, /^error\s+-$/m,
    /^parameters\s+\{.*"date":"2022-06-03".*\}$/m, /^sent\s+2$/m, /^failedPermanently\s+1$/m, /^failedTransiently\s+1$/m,
    /^backingOff\s+0$/m, new RegExp(`^pid\\s+${process.pid}$`, 'm')]) {
    expect(fields).toMatch(line);
  }
  expect(failures).toMatch(/^failures: 2 /);
  expect(failures).toMatch(/key\s+workspace\s+zone\s+fell due \(local\)\s+status\s+attempts\s+last status\s+last error/);
  // Workspaces with no row: in the default zone, UTC; a delay falls due at the midnight ending its due date.
  const fellDue = (todo: TodoRow) => `UTC\\s+${new Date(Date.parse(`${todo.due_date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)} 00:00`;
  expect(failures).toMatch(new RegExp(`${keyOf(todos[2]!)}\\s+${todos[2]!.workspace_id}\\s+${fellDue(todos[2]!)}\\s+failed\\s+1\\s+422\\s+POST /notify/notifications answered 422: unknown todo`));
  expect(failures).toMatch(new RegExp(`${keyOf(todos[3]!)}\\s+${todos[3]!.workspace_id}\\s+${fellDue(todos[3]!)}\\s+retry\\s+1\\s+500\\s+`));
  for (const sent of [todos[0]!, todos[1]!]) expect(run.output).not.toContain(keyOf(sent));
});

it('shows a run without failures, and one run as a single JSON object {run, failures}', async () => {
  const clean = await sweep(['runs', 'show', secondRunId]);
  expect(clean.output).toMatch(/^backingOff\s+1$/m);
  expect(clean.output).toMatch(/\n\nfailures: none\n$/);

  const json = await sweep(['runs', 'show', firstRunId, '--json']);
  expect(json.output.trim().split('\n')).toHaveLength(1);
  const shown = JSON.parse(json.output) as { run: Record<string, unknown>; failures: Array<Record<string, unknown>> };
  expect(shown.run).toMatchObject({ id: firstRunId, status: 'partial', counts: { sent: 2 } });
  expect(shown.failures.map((failure) => [failure.key, failure.status, failure.last_status]).sort()).toEqual([
    [keyOf(todos[2]!), 'failed', 422], [keyOf(todos[3]!), 'retry', 500]].sort());
});

it('shows the control characters of a stored error escaped, in the fields and the failures', async () => {
  const runId = randomUUID();
  const { db } = database;
  await db('job_runs').insert({ id: runId, job: 'other-job', status: 'failed', error: 'boom \x1b[2J\x07', started_at: db.raw(`now() - interval '4 days'`) });
  await db('deliveries').insert({ key: 'other-job:ctl', job: 'other-job', workspace_id: randomUUID(), item_id: 'ctl', status: 'failed',
    attempts: 1, run_id: runId, last_error: 'refused \x1b]0;title\x07\x08' });
  try {
    const run = await sweep(['runs', 'show', runId]);

    expect(run.output).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(run.output).toMatch(/^error\s+boom \\x1b\[2J\\x07$/m);
    expect(run.output).toContain('refused \\x1b]0;title\\x07\\x08');
  } finally {
    await db('deliveries').where({ run_id: runId }).del();
    await db('job_runs').where({ id: runId }).del();
  }
});

it('shows at most 1000 failures of a run and says how many more there are', async () => {
  const runId = randomUUID();
  const { db } = database;
  await db('job_runs').insert({ id: runId, job: 'other-job', status: 'partial', started_at: db.raw(`now() - interval '3 days'`) });
  await db('deliveries').insert(Array.from({ length: 1003 }, (_, i) => ({
    key: `other-job:${String(i).padStart(4, '0')}`, job: 'other-job', workspace_id: randomUUID(), item_id: String(i),
    status: 'dead', attempts: 5, run_id: runId,
  })));
  try {
    const run = await sweep(['runs', 'show', runId]);

    expect(run.output).toMatch(/^failures: 1003 /m);
    expect(run.output.split('\n').filter((line) => line.startsWith('other-job:'))).toHaveLength(1000);
    expect(run.output).toMatch(/… and 3 more, not shown\n$/);
    expect(run.stderr).toContain('showing the first 1000');
  } finally {
    await db('deliveries').where({ run_id: runId }).del();
    await db('job_runs').where({ id: runId }).del();
  }
});

it('exits 1 with one line for an unknown run id, 64 for a malformed or missing one', async () => {
  const unknownId = randomUUID();
  const unknown = await sweep(['runs', 'show', unknownId]);
  expect(unknown.exitCode).toBe(1);
  expect(unknown.output).toBe('');
  const errors = unknown.stderr.trim().split('\n').filter((line) => line.includes('"level":"error"') || line.includes('"level":50'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toContain(`no run with id ${unknownId}`);

  const malformed = await sweep(['runs', 'show', 'not-a-uuid']);
  expect(malformed.exitCode).toBe(64);
  expect(malformed.stderr).toMatch(/argument 'id'. Expected a run id/);

  const missing = await sweep(['runs', 'show']);
  expect(missing.exitCode).toBe(64);
  expect(missing.stderr).toContain('runs show needs a run id');

  const badStatus = await sweep(['runs', '--status', 'done']);
  expect(badStatus.exitCode).toBe(64);
  expect(badStatus.stderr).toMatch(/Expected one or more of running, succeeded, partial, failed, interrupted/);
});
