import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { currentSnapshot } from '../../../src/ledger/change-window.js';
import {
  getChangedDelayedTodos, getDelayedTodos, getFirstNewDueDate, getLastDelayedPosition, positionOf,
} from '../../../src/jobs/send-delay-notifications/delayed-todo.dao.js';
import { buildTodo, insertTodos, keyOf, type TodoRow } from '../../support/fixtures.js';
import { useTestDatabase } from '../../support/testbed.js';
import { zonesOn } from '../../support/run-zones.js';

const JOB = 'send-delay-notifications';
const RUN_DATE = '2022-06-03';

describe('delayed todos: where a scan starts, and what changed behind it', () => {
  const testbed = useTestDatabase(['deliveries', 'todos']);
  const db = () => testbed.database.db;

  const deliver = (todo: TodoRow, status: string) => db()('deliveries').insert({
    key: keyOf(todo), job: JOB, workspace_id: todo.workspace_id, item_id: todo.id, item_date: todo.due_date,
    status, run_id: randomUUID(), lease_expires_at: new Date(Date.now() + 60_000),
  });
  const ids = (todos: Array<{ id: string }>) => todos.map((todo) => todo.id);

  it('starts a first run at the oldest todo with no delivery at all, and reads pages after a position', async () => {
    const [sent, refused, retry, fresh, later, notDue] = await insertTodos(db(), [
      buildTodo({ due_date: '2020-01-01' }), buildTodo({ due_date: '2020-02-01' }), buildTodo({ due_date: '2021-04-01' }),
      buildTodo({ due_date: '2021-05-01' }), buildTodo({ due_date: '2021-06-01' }), buildTodo({ due_date: RUN_DATE }),
    ]) as TodoRow[];
    await deliver(sent!, 'sent');
    await deliver(refused!, 'failed');
    await deliver(retry!, 'retry');

    expect(await getFirstNewDueDate(db(), zonesOn(RUN_DATE))).toBe('2021-05-01');
    // The one to retry is the ledger's to send (its due deliveries), not the scan's.
    const page = await getDelayedTodos(db(), { zones: zonesOn(RUN_DATE), after: { from: '2020-01-01' }, limit: 10 });
    expect(ids(page)).toEqual([fresh!.id, later!.id]);
    expect(page[0]!.key).toBe(keyOf(fresh!));
    expect(ids(await getDelayedTodos(db(), { zones: zonesOn(RUN_DATE), after: positionOf(page[0]!)!, limit: 10 }))).toEqual([later!.id]);
    expect(ids(page)).not.toContain(notDue!.id);
    expect(await getLastDelayedPosition(db(), zonesOn(RUN_DATE))).toEqual([later!.due_date, later!.id]);
  });

  it('finds the todos behind a position that were created or moved after a snapshot, and no others', async () => {
    const [old, moved, renamed] = await insertTodos(db(), [1, 2, 3].map(() => buildTodo({ due_date: '2020-01-01' }))) as TodoRow[];
    const [ahead] = await insertTodos(db(), [buildTodo({ due_date: '2022-01-01' })]) as TodoRow[];
    const since = { snapshot: await currentSnapshot(db()) };
    const [late] = await insertTodos(db(), [buildTodo({ due_date: '2019-05-05' })]) as TodoRow[];
    await db()('todos').where({ id: moved!.id }).update({ due_date: '2019-06-06' });
    await db()('todos').where({ id: renamed!.id }).update({ name: 'renamed, due date unchanged' });
    const upTo = ['2021-01-01', '00000000-0000-0000-0000-000000000000'];

    const changed = await getChangedDelayedTodos(db(), { zones: zonesOn(RUN_DATE), since, upTo, limit: 10 });

    expect(ids(changed).sort()).toEqual([late!.id, moved!.id].sort());
    expect(changed.find((todo) => todo.id === moved!.id)?.dueDate).toBe('2019-06-06');
    expect(ids(changed)).not.toContain(old!.id);
    expect(ids(changed)).not.toContain(ahead!.id);
  });

  it('remembers only a position whose text sorts as its order does', () => {
    expect(positionOf({ dueDate: '2022-06-01', id: 'a' })).toEqual(['2022-06-01', 'a']);
    expect(positionOf({ dueDate: '4713-01-01 BC', id: 'a' })).toBeUndefined();
  });
});
