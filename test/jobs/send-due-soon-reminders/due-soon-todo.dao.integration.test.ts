import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getDueSoonTodos, surveyDueSoonTodos } from '../../../src/jobs/send-due-soon-reminders/due-soon-todo.dao.js';
import { buildTodo, insertTodos, type TodoRow } from '../../support/fixtures.js';
import { useTestDatabase } from '../../support/testbed.js';
import { zonesOn } from '../../support/run-zones.js';

const RUN_DATE = '2022-06-03';
const key = (todo: TodoRow) => `send-due-soon-reminders:${todo.id}:${todo.due_date}`;

describe('todos due the next day', () => {
  const testbed = useTestDatabase(['deliveries', 'todos']);

  it('reads only the todos due on the day after the run date, in (due date, id) order after the cursor, with the contract\'s key', async () => {
    const tomorrow = await insertTodos(testbed.database.db, [1, 2, 3].map(() => buildTodo({ due_date: '2022-06-04' })));
    await insertTodos(testbed.database.db, ['2022-06-03', '2022-06-05', '2021-06-04'].map((due_date) => buildTodo({ due_date })));
    const inOrder = [...tomorrow].sort((a, b) => a.id.localeCompare(b.id));

    const first = await getDueSoonTodos(testbed.database.db, { zones: zonesOn(RUN_DATE), limit: 2 });
    const rest = await getDueSoonTodos(testbed.database.db, { zones: zonesOn(RUN_DATE), after: first.at(-1)!, limit: 2 });

    expect([...first, ...rest]).toEqual(inOrder.map((todo) => ({ id: todo.id, workspaceId: todo.workspace_id, dueDate: '2022-06-04', key: key(todo) })));
  });

  it('leaves out a todo that has a reminder in the ledger, whatever its status, and counts them in the survey', async () => {
    const [sent, failed, retrying, fresh] = await insertTodos(testbed.database.db, [1, 2, 3, 4].map(() => buildTodo({ due_date: '2022-06-04' })));
    for (const [todo, status] of [[sent, 'sent'], [failed, 'failed'], [retrying, 'retry']] as const) {
      await testbed.database.db('deliveries').insert({ key: key(todo!), job: 'send-due-soon-reminders', workspace_id: todo!.workspace_id,
        item_id: todo!.id, item_date: todo!.due_date, message: 'm', status, run_id: randomUUID() });
    }

    expect((await getDueSoonTodos(testbed.database.db, { zones: zonesOn(RUN_DATE), limit: 10 })).map((todo) => todo.id)).toEqual([fresh!.id]);
    expect(await surveyDueSoonTodos(testbed.database.db, zonesOn(RUN_DATE))).toEqual({ inScope: 4, alreadySent: 1, previouslyFailed: 1 });
  });
});
