import type { Knex } from 'knex';
import { describe, expect, inject, it } from 'vitest';
import { buildTodo, insertTodos, keyOf, type TodoRow } from '../../support/fixtures.js';
import { runSweep } from '../../support/run-sweep.js';
import { useTestbed } from '../../support/testbed.js';

const SEND = 'send-delay-notifications';

/**
 * A todo written by a transaction that stays open while runs start and complete is
 * notified by the first run after it commits, however long it was open: the runs read
 * what the snapshot of the run before could not see, not a window of time. Real
 * transactions on their own connections (so PostgreSQL only: the embedded database has
 * one connection); the runner opens its own.
 */
describe.skipIf(inject('testDatabase').kind === 'embedded')('send-delay-notifications and long transactions', () => {
  const testbed = useTestbed();
  const db = () => testbed.database.db;
  const sweep = () => runSweep([SEND, '--date', '2022-06-03'], { database: testbed.database, servicesUrl: testbed.mock.url });
  const requested = () => testbed.mock.journal().filter((entry) => entry.endpoint === 'notify').map((entry) => entry.key!);

  /** A transaction on a connection of its own, left open until the test commits it. */
  const openTransaction = () => db().transaction();

  /** Runs that start and complete while the transactions stay open: none of them can see what those wrote. */
  async function runsWhileOpen(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const run = await sweep();
      expect(run.exitCode).toBe(0);
      expect(run.summary).toMatchObject({ found: 0, sent: 0 });
    }
  }

  async function settledHistory(): Promise<TodoRow> {
    const [settled] = await insertTodos(db(), [buildTodo({ due_date: '2022-01-01' })]);
    expect((await sweep()).summary).toMatchObject({ sent: 1 });
    return settled!;
  }

  it('sends a todo created long before the position by a transaction that committed after several completed runs', async () => {
    const settled = await settledHistory();
    const trx: Knex.Transaction = await openTransaction();
    const late = buildTodo({ due_date: '2021-01-01' });
    await trx('todos').insert(late);
    await runsWhileOpen(3);
    expect((await db()('job_positions').where({ job: SEND }).first())?.position).toEqual([settled.due_date, settled.id]);

    await trx.commit();
    const next = await sweep();
    const after = await sweep();

    expect(next.summary).toMatchObject({ found: 1, sent: 1 });
    expect(after.summary).toMatchObject({ found: 0, sent: 0 });
    expect(requested()).toEqual([keyOf(settled), keyOf(late)]);
  });

  it('sends a todo whose due date a long transaction moved back behind the position, under its new key, once', async () => {
    const settled = await settledHistory();
    const [future] = await insertTodos(db(), [buildTodo({ due_date: '2030-01-01' })]);
    const trx = await openTransaction();
    await trx('todos').where({ id: future!.id }).update({ due_date: '2020-02-02' });
    await runsWhileOpen(2);

    await trx.commit();
    await sweep();
    await sweep();

    expect(requested()).toEqual([keyOf(settled), keyOf({ id: future!.id, due_date: '2020-02-02' })]);
  });

  it('sends the todos of two overlapping long transactions that commit in the opposite order, each once', async () => {
    const settled = await settledHistory();
    const first = await openTransaction();
    const a = buildTodo({ due_date: '2021-03-03' });
    await first('todos').insert(a);
    const second = await openTransaction();
    const b = buildTodo({ due_date: '2021-04-04' });
    await second('todos').insert(b);
    await runsWhileOpen(1);

    await second.commit();
    const afterSecond = await sweep();
    await runsWhileOpen(1);
    await first.commit();
    const afterFirst = await sweep();
    await runsWhileOpen(1);

    expect(afterSecond.summary).toMatchObject({ found: 1, sent: 1 });
    expect(afterFirst.summary).toMatchObject({ found: 1, sent: 1 });
    expect(requested()).toEqual([keyOf(settled), keyOf(b), keyOf(a)]);
  });
});
