import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getDelayedTodos, surveyDelayedTodos } from '../../../src/jobs/send-delay-notifications/delayed-todo.dao.js';
import { buildTodo, insertTodos, keyOf, type TodoRow } from '../../support/fixtures.js';
import { useTestDatabase } from '../../support/testbed.js';

const JOB = 'send-delay-notifications';
const RUN_DATE = '2022-06-03';

describe('delayed todos: the survey and where the scan starts', () => {
  const testbed = useTestDatabase(['deliveries', 'todos']);

  const deliver = (todo: TodoRow, status: string) => testbed.database.db('deliveries').insert({
    key: keyOf(todo), job: JOB, workspace_id: todo.workspace_id, item_id: todo.id, item_date: todo.due_date,
    status, run_id: randomUUID(), lease_expires_at: new Date(Date.now() + 60_000),
  });

  it('starts at the oldest todo with no delivery at all, and counts every delayed todo', async () => {
    const [sent, refused, dead, retry, fresh, notDue] = await insertTodos(testbed.database.db, [
      buildTodo({ due_date: '2020-01-01' }),
      buildTodo({ due_date: '2020-02-01' }),
      buildTodo({ due_date: '2020-03-01' }),
      buildTodo({ due_date: '2021-04-01' }),
      buildTodo({ due_date: '2021-05-01' }),
      buildTodo({ due_date: RUN_DATE }),
    ]) as TodoRow[];
    await deliver(sent!, 'sent');
    await deliver(refused!, 'failed');
    await deliver(dead!, 'dead');
    await deliver(retry!, 'retry');

    const survey = await surveyDelayedTodos(testbed.database.db, RUN_DATE);

    expect(survey).toEqual({ inScope: 5, alreadySent: 1, previouslyFailed: 2, firstNew: '2021-05-01' });
    // The one to retry is the ledger's to send (its due deliveries), not the scan's.
    const page = await getDelayedTodos(testbed.database.db, { runDate: RUN_DATE, from: '2020-01-01', limit: 10 });
    expect(page.map((todo) => todo.id)).toEqual([fresh!.id]);
    expect(page.map((todo) => todo.id)).not.toContain(notDue!.id);
    expect(page.map((todo) => todo.id)).not.toContain(retry!.id);
    expect(page[0]!.key).toBe(keyOf(fresh!));
  });

  it('leaves a todo claimed by a run to the ledger: the scan starts past it', async () => {
    const [claimed] = await insertTodos(testbed.database.db, [
      buildTodo({ due_date: '2020-01-01' }),
      buildTodo({ due_date: '2020-06-01' }),
    ]) as TodoRow[];
    await deliver(claimed!, 'pending');

    expect((await surveyDelayedTodos(testbed.database.db, RUN_DATE)).firstNew).toBe('2020-06-01');
  });

  it('has no first todo to do when every delayed todo is settled, or there are none', async () => {
    expect(await surveyDelayedTodos(testbed.database.db, RUN_DATE)).toEqual({ inScope: 0, alreadySent: 0, previouslyFailed: 0, firstNew: undefined });
    const [todo] = await insertTodos(testbed.database.db, [buildTodo({ due_date: '2020-01-01' })]) as TodoRow[];
    await deliver(todo!, 'sent');

    expect((await surveyDelayedTodos(testbed.database.db, RUN_DATE)).firstNew).toBeUndefined();
  });
});
