import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../mockserver/mock-server.type.js';
import { buildDelayedTodos, buildTodo, insertTodos, type TodoRow } from '../support/fixtures.js';
import { RUN_DATE } from '../support/job-fixtures.js';
import { runSweep } from '../support/run-sweep.js';
import { useTestbed } from '../support/testbed.js';

const DELAY = 'send-delay-notifications';
const REMINDER = 'send-due-soon-reminders';
const DIGEST = 'send-workspace-digests';
const keyOf = (job: string, todo: Pick<TodoRow, 'id' | 'due_date'>) => `${job}:${todo.id}:${todo.due_date}`;

/**
 * The ledger owes what a failed run left to retry; by the time the service recovers, the
 * items may have changed. Each scenario: a run against a notify service that fails every
 * request, then changes to the items, then the recovery. What is asserted is what the
 * mock received.
 */
describe('what the ledger owes is sent only while it is still true', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  const sweep = (args: string[]) => runSweep(args, { database: testbed.database, servicesUrl: testbed.mock.url });
  const delivery = (key: string) => db()('deliveries').where({ key }).first();
  /** The notification requests the mock has received since `from` (a journal length). */
  const requestsSince = (from: number): JournalEntry[] => testbed.mock.journal().slice(from).filter((entry) => entry.endpoint === 'notify');
  const accepted = () => testbed.mock.journal().filter((entry) => entry.outcome === 'accepted').map((entry) => entry.key);

  /** Every request fails (503): whatever the run claims is left to retry, due again at once. */
  async function failingRun(args: string[]): Promise<void> {
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 503 }] });
    const run = await sweep([...args, '--retry-backoff-seconds', '0']);
    expect(run.exitCode).toBe(75);
    expect(run.summary).toMatchObject({ sent: 0 });
    testbed.mock.configure({ rules: [] });
  }

  /** The recovery: a run after the service is back, with the requests it made. */
  async function recovery(args: string[]) {
    const from = testbed.mock.journal().length;
    const run = await sweep(args);
    return { ...run, requests: requestsSince(from) };
  }

  function expectSupersededLine(run: { logs: Array<Record<string, unknown>> }, key: string, fields: Record<string, unknown>) {
    const lines = run.logs.filter((line) => line.key === key && line.reason !== undefined);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: expect.stringMatching(/info|warn/), msg: expect.stringMatching(/no longer true.*superseded/),
      ...fields });
  }

  it(`${DELAY}: supersedes the delays of a deleted and a moved todo, sends the moved one under its new key and the `
    + 'one moved to another workspace with that workspace\'s token, once each', async () => {
    const [oldWorkspace, newWorkspace] = [randomUUID(), randomUUID()];
    const [gone, moved, movedAway, unchanged] = await insertTodos(db(), [0, 1, 2, 3].map(() => buildTodo({ workspace_id: oldWorkspace })));
    await failingRun([DELAY, '--date', RUN_DATE]);

    await db()('todos').where({ id: gone!.id }).del();
    await db()('todos').where({ id: moved!.id }).update({ due_date: '2021-02-02' });
    await db()('todos').where({ id: movedAway!.id }).update({ workspace_id: newWorkspace });
    // The mock answers 403 to a token of any other workspace than the one that holds the todo now.
    testbed.mock.configure({ todoWorkspaces: { [moved!.id]: oldWorkspace, [movedAway!.id]: newWorkspace, [unchanged!.id]: oldWorkspace } });
    const next = await recovery([DELAY, '--date', RUN_DATE]);

    expect(next.exitCode).toBe(0);
    const newKey = keyOf(DELAY, { id: moved!.id, due_date: '2021-02-02' });
    expect(next.requests.map((entry) => entry.key).sort())
      .toEqual([newKey, keyOf(DELAY, movedAway!), keyOf(DELAY, unchanged!)].sort());
    expect(next.requests.every((entry) => entry.outcome === 'accepted')).toBe(true);
    expect(next.requests.find((entry) => entry.key === keyOf(DELAY, movedAway!))?.workspaceId).toBe(newWorkspace);
    expect(next.summary).toMatchObject({ dueAgain: 4, superseded: 2, found: 1, sent: 3, failedPermanently: 0 });

    expect(await delivery(keyOf(DELAY, gone!))).toMatchObject({ status: 'superseded', last_error: 'the todo is gone' });
    expect(await delivery(keyOf(DELAY, moved!))).toMatchObject({ status: 'superseded', last_error: 'its due date moved to 2021-02-02' });
    expect(await delivery(keyOf(DELAY, movedAway!))).toMatchObject({ status: 'sent', workspace_id: newWorkspace });
    expect(await delivery(newKey)).toMatchObject({ status: 'sent' });
    expectSupersededLine(next, keyOf(DELAY, gone!), { todoId: gone!.id, dueDate: '2020-01-01', workspaceId: oldWorkspace,
      reason: 'the todo is gone' });
    expectSupersededLine(next, keyOf(DELAY, moved!), { todoId: moved!.id, reason: 'its due date moved to 2021-02-02' });
    const [runRow] = await db()('job_runs').where({ job: DELAY }).orderBy('started_at', 'desc').limit(1);
    expect(runRow.counts).toMatchObject({ superseded: 2 });
    const [header, latest] = (await sweep(['runs', '--job', DELAY, '--limit', '1'])).output.trimEnd().split('\n');
    expect(header).toMatch(/\bsuperseded$/);
    expect(latest).toMatch(/\s2$/);

    const again = await recovery([DELAY, '--date', RUN_DATE]);
    expect(again.requests).toEqual([]);
    expect(again.summary).toMatchObject({ dueAgain: 0, superseded: 0, found: 0 });
  });

  it(`${REMINDER}: supersedes the reminders of a deleted todo and of one moved five days on, sends the one moved to `
    + 'another workspace there, and the moved one on the day before its new date', async () => {
    const [oldWorkspace, newWorkspace] = [randomUUID(), randomUUID()];
    const [gone, moved, movedAway, unchanged] = await insertTodos(db(),
      [0, 1, 2, 3].map(() => buildTodo({ workspace_id: oldWorkspace, due_date: '2022-06-04' })));
    await failingRun([REMINDER, '--date', RUN_DATE]);

    await db()('todos').where({ id: gone!.id }).del();
    await db()('todos').where({ id: moved!.id }).update({ due_date: '2022-06-09' });
    await db()('todos').where({ id: movedAway!.id }).update({ workspace_id: newWorkspace });
    testbed.mock.configure({ todoWorkspaces: { [moved!.id]: oldWorkspace, [movedAway!.id]: newWorkspace, [unchanged!.id]: oldWorkspace } });
    // A dry run shows what would not be sent, and settles nothing.
    const dry = await recovery([REMINDER, '--date', RUN_DATE, '--dry-run']);
    expect(dry.requests).toEqual([]);
    expect(dry.summary).toMatchObject({ dueAgain: 4, superseded: 2 });
    expect(await delivery(keyOf(REMINDER, gone!))).toMatchObject({ status: 'retry' });
    const next = await recovery([REMINDER, '--date', RUN_DATE]);

    expect(next.exitCode).toBe(0);
    expect(next.requests.map((entry) => entry.key).sort()).toEqual([keyOf(REMINDER, movedAway!), keyOf(REMINDER, unchanged!)].sort());
    expect(next.requests.every((entry) => entry.outcome === 'accepted')).toBe(true);
    expect(next.requests.find((entry) => entry.key === keyOf(REMINDER, movedAway!))?.workspaceId).toBe(newWorkspace);
    expect(next.summary).toMatchObject({ dueAgain: 4, superseded: 2, sent: 2 });
    expect(await delivery(keyOf(REMINDER, gone!))).toMatchObject({ status: 'superseded', last_error: 'the todo is gone' });
    expect(await delivery(keyOf(REMINDER, moved!))).toMatchObject({ status: 'superseded', last_error: 'its due date moved to 2022-06-09' });
    expect(await delivery(keyOf(REMINDER, movedAway!))).toMatchObject({ status: 'sent', workspace_id: newWorkspace });
    expectSupersededLine(next, keyOf(REMINDER, moved!), { todoId: moved!.id, dueDate: '2022-06-04', workspaceId: oldWorkspace });

    const onItsDay = await recovery([REMINDER, '--date', '2022-06-08']);
    expect(onItsDay.requests.map((entry) => [entry.key, entry.outcome])).toEqual([[keyOf(REMINDER, { id: moved!.id, due_date: '2022-06-09' }),
      'accepted']]);
  });

  it(`${REMINDER}: supersedes a reminder left to retry once its day has passed`, async () => {
    const [todo] = await insertTodos(db(), [buildTodo({ due_date: '2022-06-04' })]);
    await failingRun([REMINDER, '--date', RUN_DATE]);

    const late = await recovery([REMINDER, '--date', '2022-06-05']);

    expect(late.requests).toEqual([]);
    expect(await delivery(keyOf(REMINDER, todo!))).toMatchObject({ status: 'superseded',
      last_error: 'its due date 2022-06-04 has ended in UTC (2022-06-05 there)' });
  });

  it(`${DIGEST}: supersedes the digest of a workspace whose delayed todos were all deleted, and of one whose todos moved `
    + 'to the future; sends the others with their first count, and one whose todos are delayed again', async () => {
    const [emptied, postponed, thinned] = [randomUUID(), randomUUID(), randomUUID()];
    const todos = await insertTodos(db(), [emptied, emptied, postponed, postponed, thinned, thinned]
      .map((workspaceId) => buildTodo({ workspace_id: workspaceId, due_date: '2021-01-01' })));
    const digestKey = (workspaceId: string) => `${DIGEST}:${workspaceId}:${RUN_DATE}`;
    await failingRun([DIGEST, '--date', RUN_DATE]);

    await db()('todos').where({ workspace_id: emptied }).del();
    await db()('todos').where({ workspace_id: postponed }).update({ due_date: '2022-07-01' });
    await db()('todos').where({ id: todos[4]!.id }).del();
    const next = await recovery([DIGEST, '--date', RUN_DATE]);

    expect(next.exitCode).toBe(0);
    expect(next.requests.map((entry) => [entry.key, entry.message, entry.workspaceId, entry.outcome]))
      .toEqual([[digestKey(thinned), `Workspace ${thinned} has 2 delayed todos`, thinned, 'accepted']]);
    expect(next.summary).toMatchObject({ dueAgain: 3, superseded: 2, sent: 1, found: 0 });
    const noneAsOf = `the workspace has no delayed todos as of ${RUN_DATE} any more`;
    expect(await delivery(digestKey(emptied))).toMatchObject({ status: 'superseded', last_error: noneAsOf });
    expect(await delivery(digestKey(postponed))).toMatchObject({ status: 'superseded', last_error: noneAsOf });
    expectSupersededLine(next, digestKey(emptied), { workspaceId: emptied, runDate: RUN_DATE, reason: noneAsOf });

    // Delayed again: the same day's digest is new work for the scan, sent once.
    await db()('todos').where({ workspace_id: postponed }).update({ due_date: '2021-01-01' });
    const again = await recovery([DIGEST, '--date', RUN_DATE]);
    expect(again.requests.map((entry) => [entry.key, entry.outcome])).toEqual([[digestKey(postponed), 'accepted']]);
    expect(await delivery(digestKey(postponed))).toMatchObject({ status: 'sent', attempts: 1 });
    expect((await recovery([DIGEST, '--date', RUN_DATE])).requests).toEqual([]);
  });

  it(`${DELAY}: a todo moved away and back to the same due date is sent once under each key`, async () => {
    const [todo] = await insertTodos(db(), [buildTodo({ due_date: '2020-01-01' })]);
    await failingRun([DELAY, '--date', RUN_DATE]);
    await db()('todos').where({ id: todo!.id }).update({ due_date: '2020-03-03' });
    const away = await recovery([DELAY, '--date', RUN_DATE]);
    expect(away.summary).toMatchObject({ superseded: 1, sent: 1 });

    await db()('todos').where({ id: todo!.id }).update({ due_date: '2020-01-01' });
    const back = await recovery([DELAY, '--date', RUN_DATE]);
    const rerun = await recovery([DELAY, '--date', RUN_DATE]);

    expect(back.requests.map((entry) => [entry.key, entry.outcome])).toEqual([[keyOf(DELAY, todo!), 'accepted']]);
    expect(rerun.requests).toEqual([]);
    expect(accepted().sort()).toEqual([keyOf(DELAY, todo!), keyOf(DELAY, { id: todo!.id, due_date: '2020-03-03' })].sort());
    expect(await delivery(keyOf(DELAY, todo!))).toMatchObject({ status: 'sent', attempts: 1, last_error: null });
  });

  it(`${REMINDER}: a todo moved away and back to the same day is reminded once`, async () => {
    const [todo] = await insertTodos(db(), [buildTodo({ due_date: '2022-06-04' })]);
    await failingRun([REMINDER, '--date', RUN_DATE]);
    await db()('todos').where({ id: todo!.id }).update({ due_date: '2022-06-09' });
    expect((await recovery([REMINDER, '--date', RUN_DATE])).summary).toMatchObject({ superseded: 1, sent: 0 });

    await db()('todos').where({ id: todo!.id }).update({ due_date: '2022-06-04' });
    const back = await recovery([REMINDER, '--date', RUN_DATE]);
    const rerun = await recovery([REMINDER, '--date', RUN_DATE]);

    expect(back.requests.map((entry) => [entry.key, entry.outcome])).toEqual([[keyOf(REMINDER, todo!), 'accepted']]);
    expect(back.summary).toMatchObject({ found: 1, sent: 1 });
    expect(rerun.requests).toEqual([]);
  });

  it(`${DELAY}: leaves a delay owed while its todo is not delayed as of the run date, and sends it once it is`, async () => {
    const [todo] = await insertTodos(db(), [buildTodo({ due_date: '2022-06-05' })]);
    await failingRun([DELAY, '--date', '2022-06-10']);

    const earlier = await recovery([DELAY, '--date', RUN_DATE]);
    expect(earlier.requests).toEqual([]);
    expect(earlier.summary).toMatchObject({ superseded: 0, sent: 0 });
    expect(earlier.logs.find((line) => line.key === keyOf(DELAY, todo!))).toMatchObject({
      reason: `it is not delayed yet in UTC (due 2022-06-05, ${RUN_DATE} there)`, msg: expect.stringMatching(/stays owed/) });
    expect(await delivery(keyOf(DELAY, todo!))).toMatchObject({ status: 'retry' });

    const later = await recovery([DELAY, '--date', '2022-06-10']);
    expect(later.requests.map((entry) => [entry.key, entry.outcome])).toEqual([[keyOf(DELAY, todo!), 'accepted']]);
  });

  it(`${DELAY}: checks each page of owed deliveries with one statement that reads only that page's todos`, async () => {
    const todos = await insertTodos(db(), buildDelayedTodos(300, 3));
    // Others, enough that reading the table would cost more than looking the page's todos up.
    await insertTodos(db(), buildDelayedTodos(20_000, 50, '2022-07-01'));
    // No token for any workspace: every item is released to the next run, owed.
    testbed.mock.configure({ rules: [{ endpoint: 'token', status: 400, body: { error: 'invalid_scope' } }] });
    expect((await sweep([DELAY, '--date', RUN_DATE, '--page-size', '100'])).summary).toMatchObject({ skippedWithoutToken: 300 });
    testbed.mock.configure({ rules: [] });
    await db()('todos').whereIn('id', todos.filter((_, i) => i % 10 === 0).map((todo) => todo.id)).del();
    await db().raw('analyze todos');

    const statements: Array<{ sql: string; bindings: unknown[] }> = [];
    const collect = (query: { sql: string; bindings?: unknown[] }) => { statements.push({ sql: query.sql, bindings: query.bindings ?? [] }); };
    // The runner on the test's own knex, so that its statements can be seen.
    const database = { ...testbed.database, injected: testbed.database.db };
    db().on('query', collect);
    try {
      const next = await runSweep([DELAY, '--date', RUN_DATE, '--page-size', '100'], { database, servicesUrl: testbed.mock.url });
      expect(next.summary).toMatchObject({ dueAgain: 300, superseded: 30, sent: 270 });
    } finally {
      db().off('query', collect);
    }

    const checks = statements.filter(({ sql }) => /from "todos"/.test(sql) && /t\.id = any\(/.test(sql));
    // Three pages, each checked when the brake counts it and again when it is sent (so
    // that what is sent is what stands then): one statement per page each time.
    expect(checks).toHaveLength(6);
    expect(statements.filter(({ sql }) => /set status = 'superseded'/.test(sql))).toHaveLength(3);
    for (const { sql, bindings } of checks) {
      const result = await db().raw(`explain (analyze, format json) ${sql.replace(/\$\d+/g, '?')}`, bindings as never);
      const explained = (result as { rows: Array<{ 'QUERY PLAN': unknown }> }).rows[0]!['QUERY PLAN'];
      const [plan] = (typeof explained === 'string' ? JSON.parse(explained) : explained) as Array<{ Plan: Record<string, unknown> }>;
      // By primary key: at most the page's todos, never the 20,270 in the table.
      expect(JSON.stringify(plan!.Plan), sql).not.toMatch(/"Node Type":"Seq Scan"/);
      expect(Number(plan!.Plan['Actual Rows']) + Number(plan!.Plan['Rows Removed by Filter'] ?? 0), sql).toBeLessThanOrEqual(100);
    }
  });
});
