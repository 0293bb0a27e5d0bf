import { describe, expect, it } from 'vitest';
import { buildDelayedTodos, buildTodo, insertTodos, keyOf } from '../../support/fixtures.js';
import { runSweep } from '../../support/run-sweep.js';
import { useTestbed } from '../../support/testbed.js';

const SEND = 'send-delay-notifications';

/**
 * A run reads from where the earlier ones settled every todo, and what was written
 * behind that point since: it costs its new work, and nothing is forgotten.
 */
describe('send-delay-notifications resumes where its runs settled every todo', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  const sweep = (args: string[] = ['--date', '2022-06-03']) =>
    runSweep([SEND, ...args], { database: testbed.database, servicesUrl: testbed.mock.url });
  const sentKeys = () => testbed.mock.journal().filter((entry) => entry.outcome === 'accepted').map((entry) => entry.key!);
  const position = async () => (await db()('job_positions').where({ job: SEND }).first())?.position as string[] | undefined;
  /** The xmax of the snapshot the position is remembered with: what the next run reads changes against. */
  const snapshotXmax = async () => BigInt((await db()('job_positions').where({ job: SEND })
    .first(db().raw('pg_snapshot_xmax(changes_snapshot)::text as xmax')) as { xmax: string }).xmax);
  /** As if the todos so far had been written long ago: out of reach of the change window. */
  const age = () => db()('todos').update({ changed_at: db().raw(`now() - interval '1 day'`) });

  it('remembers the last delayed todo once a run completes, and then reads nothing of the settled history', async () => {
    const history = await insertTodos(db(), buildDelayedTodos(30, 3, '2020-01-01'));
    const [last] = await insertTodos(db(), [buildTodo({ due_date: '2022-06-02' })]);
    await insertTodos(db(), [buildTodo({ due_date: '2022-06-03' })]);
    expect((await sweep()).summary).toMatchObject({ found: 31, sent: 31 });
    expect(await position()).toEqual([last!.due_date, last!.id]);
    await age();

    const rerun = await sweep();

    expect(rerun.summary).toMatchObject({ found: 0, dueAgain: 0, sent: 0 });
    expect(rerun.summary).not.toHaveProperty('inScope');
    expect(sentKeys()).toHaveLength(history.length + 1);
  });

  it('sends a todo created late with a due date long past, found behind the position', async () => {
    await insertTodos(db(), buildDelayedTodos(5, 1, '2021-01-01'));
    await sweep();
    await age();
    const [late] = await insertTodos(db(), [buildTodo({ due_date: '2019-03-03' })]);

    const next = await sweep();

    expect(next.summary).toMatchObject({ found: 1, sent: 1 });
    expect(next.logs.find((line) => line.source === 'changed' && typeof line.page === 'number')).toBeDefined();
    expect(sentKeys().at(-1)).toBe(keyOf(late!));
  });

  it('sends a todo whose due date moved back into the past, under its new key, and one moved forward once it passes again', async () => {
    const [future, back, forward] = await insertTodos(db(), [buildTodo({ due_date: '2030-01-01' }),
      buildTodo({ due_date: '2021-01-01' }), buildTodo({ due_date: '2021-02-02' })]);
    await sweep();
    await age();
    await db()('todos').where({ id: future!.id }).update({ due_date: '2020-05-05' });
    await db()('todos').where({ id: back!.id }).update({ due_date: '2020-01-01' });
    await db()('todos').where({ id: forward!.id }).update({ due_date: '2022-06-10' });

    const next = await sweep();
    const later = await sweep(['--date', '2022-06-11']);

    expect(next.summary).toMatchObject({ found: 2, sent: 2 });
    expect(later.summary).toMatchObject({ found: 1, sent: 1 });
    expect(sentKeys().sort()).toEqual([
      keyOf(back!), keyOf(forward!),
      keyOf({ id: future!.id, due_date: '2020-05-05' }), keyOf({ id: back!.id, due_date: '2020-01-01' }),
      keyOf({ id: forward!.id, due_date: '2022-06-10' }),
    ].sort());
  });

  it('takes up a late todo in a run with an earlier --date, and never moves the position back', async () => {
    await insertTodos(db(), buildDelayedTodos(3, 1, '2022-06-01'));
    await sweep(['--date', '2022-06-10']);
    const settled = await position();
    await age();
    const [late] = await insertTodos(db(), [buildTodo({ due_date: '2021-01-01' })]);

    const earlier = await sweep(['--date', '2022-06-03']);

    expect(earlier.summary).toMatchObject({ found: 1, sent: 1 });
    expect(sentKeys()).toContain(keyOf(late!));
    expect(await position()).toEqual(settled);
  });

  it('moves the change snapshot on once every changed todo is claimed, even when the run stops before its scan settles a page', async () => {
    const history = await insertTodos(db(), buildDelayedTodos(3, 1, '2021-06-01'));
    await sweep();
    const settled = await position();
    const before = await snapshotXmax();
    const behind = await insertTodos(db(), buildDelayedTodos(10, 2, '2020-01-01'));
    const ahead = await insertTodos(db(), buildDelayedTodos(5, 1, '2022-01-01'));
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 503 }] });

    // Both pages of changes are claimed at once (C = 1, batches of 5); the scan's first
    // page waits for five of them to finish, and the breaker stops the run before that
    // (ten tries an item, twenty failures in a row).
    const stopped = await runSweep([SEND, '--date', '2022-06-03', '--page-size', '5', '--concurrency', '1', '--retry-backoff-seconds', '0'],
      { database: testbed.database, servicesUrl: testbed.mock.url, env: { HTTP_RETRIES: '9' } });

    expect(stopped.exitCode).toBe(75);
    const claimed = new Set(await db()('deliveries').where({ job: SEND }).pluck('item_id'));
    expect(claimed).toEqual(new Set([...history, ...behind].map((todo) => todo.id)));
    expect(await position()).toEqual(settled);
    // What the changes were read against moved on: the next run does not read them again.
    expect(await snapshotXmax()).toBeGreaterThan(before);

    testbed.mock.configure({ rules: [] });
    const next = await sweep();
    expect(next.exitCode).toBe(0);
    const everyKey = [...history, ...behind, ...ahead].map(keyOf);
    expect(new Set(sentKeys())).toEqual(new Set(everyKey));
    expect(sentKeys()).toHaveLength(everyKey.length);
  });

  it('remembers only the pages a stopped run claimed whole: the next run goes on from there', async () => {
    const todos = await insertTodos(db(), buildDelayedTodos(40, 2, '2020-01-01'));
    testbed.mock.configure({ rules: [{ endpoint: 'notify', status: 503 }] });
    // The breaker stops the run early: what it did not reach has no delivery, and must not be passed over.
    const stopped = await sweep(['--date', '2022-06-03', '--page-size', '10', '--concurrency', '2', '--retry-backoff-seconds', '0']);
    expect(stopped.exitCode).toBe(75);
    const claimed = await db()('deliveries').count({ n: '*' }).first().then((row) => Number(row?.n));
    expect(claimed).toBeLessThan(40);

    testbed.mock.configure({ rules: [] });
    const next = await sweep();

    expect(next.exitCode).toBe(0);
    expect(new Set(sentKeys())).toEqual(new Set(todos.map(keyOf)));
    expect(sentKeys()).toHaveLength(40);
  });
});
